import AutoregPNG
import Foundation

/// `text` with the five characters HTML gives meaning to (`& < > " '`) replaced by entities,
/// safe inside element content and quoted attribute values.
public func escapeHTML(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for ch in text {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(ch)
        }
    }
    return out
}

/// `image` as a `data:image/png;base64,...` URI, so that a page needs no file beside it.
public func pngDataURI(_ image: RasterImage) throws -> String {
    "data:image/png;base64," + Data(try PNG.encode(image)).base64EncodedString()
}

/// An `<img>` element showing `image` from a data URI, with `alt` (escaped) as its text and
/// pixels kept sharp when the browser enlarges it.
public func imageElement(_ image: RasterImage, alt: String) throws -> String {
    "<img src=\"\(try pngDataURI(image))\" width=\"\(image.width)\" height=\"\(image.height)\" alt=\"\(escapeHTML(alt))\">"
}
