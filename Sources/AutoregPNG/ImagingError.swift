/// An error raised while reading or writing an image file; the description names the file.
public enum ImagingError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file could not be opened, read, written or renamed.
    case io(path: String, reason: String)
    /// The bytes are not a PNG file.
    case notPNG(path: String)
    /// The file ends before the PNG structure does.
    case truncated(path: String, detail: String)
    /// A chunk's CRC does not match its contents.
    case badCRC(path: String, chunk: String)
    /// The PNG is well-formed but uses a feature this reader does not handle.
    case unsupported(path: String, detail: String)
    /// The image (or file) is larger than the reader's limits allow; `detail` names the size and the limit.
    case tooLarge(path: String, detail: String)
    /// The PNG breaks the format's rules.
    case malformed(path: String, detail: String)
    /// The image passed to a writer is inconsistent (sizes, channels).
    case invalidImage(path: String, detail: String)

    public var description: String {
        switch self {
        case let .io(path, reason): return "\(path): \(reason)"
        case let .notPNG(path): return "\(path): not a PNG file (bad signature)"
        case let .truncated(path, detail): return "\(path): truncated PNG (\(detail))"
        case let .badCRC(path, chunk): return "\(path): bad CRC in \(chunk) chunk (file is damaged)"
        case let .unsupported(path, detail): return "\(path): unsupported PNG: \(detail)"
        case let .tooLarge(path, detail): return "\(path): image too large: \(detail)"
        case let .malformed(path, detail): return "\(path): malformed PNG: \(detail)"
        case let .invalidImage(path, detail): return "\(path): cannot write image: \(detail)"
        }
    }
}
