import Foundation

/// A self-contained HTML page: inline CSS, inline SVG and data-URI images, no script or font
/// from anywhere else, so it opens the same without a network.
public struct ReportPage {
    public var title: String
    /// Sections in order: a heading (escaped) and an HTML body (put in as it is).
    public private(set) var sections: [(heading: String, html: String)] = []

    public init(title: String) { self.title = title }

    public mutating func add(_ heading: String, html: String) { sections.append((heading, html)) }

    /// A paragraph of `text`, escaped.
    public static func paragraph(_ text: String, className: String? = nil) -> String {
        "<p\(className.map { " class=\"\($0)\"" } ?? "")>\(escapeHTML(text))</p>"
    }

    /// `text` (escaped) in a `<pre>` block.
    public static func preformatted(_ text: String) -> String { "<pre>\(escapeHTML(text))</pre>" }

    /// A figure: `html` (an image or a plot) with a caption (escaped).
    public static func figure(_ html: String, caption: String) -> String {
        "<figure>\(html)<figcaption>\(escapeHTML(caption))</figcaption></figure>"
    }

    static let style = """
    body { font-family: sans-serif; margin: 24px; color: #222; background: #fff; max-width: 1240px; }
    h1 { font-size: 22px; } h2 { font-size: 18px; border-bottom: 1px solid #ccc; padding-bottom: 4px; margin-top: 28px; }
    h3 { font-size: 15px; }
    figure { display: inline-block; margin: 8px 16px 8px 0; vertical-align: top; }
    figcaption { font-size: 12px; color: #555; max-width: 560px; }
    img { image-rendering: pixelated; border: 1px solid #ddd; }
    pre { background: #f6f6f6; padding: 8px; font-size: 12px; overflow-x: auto; white-space: pre-wrap; }
    p.note { color: #7a5b00; background: #fff8e0; padding: 6px; font-size: 13px; }
    table { border-collapse: collapse; font-size: 13px; } td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
    """

    /// A script that counts the images that decoded (`data-images-loaded` on `<body>`) and
    /// reports one that did not on the console, so that a headless browser can check both.
    static let imageCheck = """
    window.addEventListener('load', function () {
      var images = document.images, loaded = 0;
      for (var i = 0; i < images.length; i++) {
        if (images[i].complete && images[i].naturalWidth > 0) { loaded++; }
        else { console.error('image did not load: ' + images[i].alt); }
      }
      document.body.setAttribute('data-images-loaded', String(loaded));
    });
    """

    /// The whole page.
    public func html() -> String {
        var s = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        s += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        s += "<title>\(escapeHTML(title))</title>\n<style>\n\(ReportPage.style)\n</style>\n</head>\n<body>\n"
        s += "<h1>\(escapeHTML(title))</h1>\n"
        for (heading, body) in sections { s += "<section>\n<h2>\(escapeHTML(heading))</h2>\n\(body)\n</section>\n" }
        s += "<script>\n\(ReportPage.imageCheck)</script>\n</body>\n</html>\n"
        return s
    }
}
