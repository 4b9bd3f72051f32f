// IDX images and labels (plain or gzip) from arbitrary bytes: a thrown DataError is a
// correct answer; a trap, an AddressSanitizer report, a timeout or running out of memory
// is a finding.
import AutoregData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    if let images = try? IDX.decodeImages(bytes, path: "fuzz") {
        precondition(images.pixels.count == images.count * images.rows * images.columns)
    }
    _ = try? IDX.decodeLabels(bytes, path: "fuzz")
    return 0
}
