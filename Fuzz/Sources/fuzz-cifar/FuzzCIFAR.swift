// CIFAR-10 binary batches (plain or gzip) from arbitrary bytes; a thrown DataError is a
// correct answer.
import AutoregData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    if let batch = try? CIFAR10.decodeBatch(bytes, path: "fuzz", name: "cifar10") {
        precondition(batch.labels?.count == batch.count)
    }
    return 0
}
