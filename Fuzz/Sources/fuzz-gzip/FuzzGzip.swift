// gzip inflation (and pass-through of anything else) under a 1 MiB cap; the output must
// never exceed the cap, whatever the input inflates to.
import AutoregData

let cap = 1 << 20

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    if let out = try? decompressPossiblyCompressed(bytes, maxBytes: cap, path: "fuzz") {
        precondition(out.count <= cap)
        if bytes.first != 0x1F || bytes.dropFirst().first != 0x8B { precondition(out == bytes) }
    }
    return 0
}
