// PNG decoding from arbitrary bytes; a thrown ImagingError is a correct answer. The pixel
// cap is left at its default, so the caps themselves are under test.
import AutoregImaging

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    if let image = try? PNG.decode(bytes, path: "fuzz") {
        precondition(image.width * image.height <= PNG.maxPixels)
        precondition(image.pixels.count == image.width * image.height * image.channels)
    }
    return 0
}
