// .amat text (plain or gzip) from arbitrary bytes; a thrown DataError is a correct answer.
import AutoregData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    if let matrix = try? Amat.decodeBinary(bytes, path: "fuzz") {
        precondition(matrix.values.count == matrix.rows * matrix.columns)
        precondition(matrix.values.allSatisfy { $0 <= 1 })
    }
    return 0
}
