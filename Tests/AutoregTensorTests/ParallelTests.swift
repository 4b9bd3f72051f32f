import AutoregTensor
import Foundation
import XCTest

/// The engine's own thread loops: chunks cover the range once, `maxWorkers` caps them, and
/// the free-core count reads /proc/loadavg's runnable field.
final class ParallelTests: XCTestCase {
    override func tearDown() { Gemm.setThreads(ProcessInfo.processInfo.activeProcessorCount) }

    func chunks(_ count: Int, maxWorkers: Int = .max) -> [Range<Int>] {
        let lock = NSLock()
        var seen: [Range<Int>] = []
        parallelChunks(count, maxWorkers: maxWorkers) { _, r in lock.lock(); seen.append(r); lock.unlock() }
        return seen.sorted { $0.lowerBound < $1.lowerBound }
    }

    func testChunksCoverTheRangeAndRespectTheCap() {
        Gemm.setThreads(3)
        XCTAssertEqual(chunks(7), [0..<2, 2..<4, 4..<7])
        XCTAssertEqual(chunks(7, maxWorkers: 2), [0..<3, 3..<7])
        XCTAssertEqual(chunks(7, maxWorkers: 1), [0..<7])
        XCTAssertEqual(chunks(7, maxWorkers: 0), [0..<7], "a cap below one means one worker")
        XCTAssertEqual(chunks(2), [0..<1, 1..<2], "no more workers than items")
        Gemm.setThreads(1)
        XCTAssertEqual(chunks(7), [0..<7])
    }

    func testCoresLeftFreeFromLoadavg() {
        XCTAssertEqual(coresLeftFree(loadavg: "0.10 0.20 0.30 1/345 999\n", cores: 2), 2, "only the caller runs")
        XCTAssertEqual(coresLeftFree(loadavg: "1.00 1.00 1.00 2/345 999", cores: 2), 1, "one other task runs")
        XCTAssertEqual(coresLeftFree(loadavg: "3.00 3.00 3.00 5/345 999", cores: 2), 1, "at least one core")
        XCTAssertEqual(coresLeftFree(loadavg: "1.00 1.00 1.00 3/345 999", cores: 8), 6)
        XCTAssertNil(coresLeftFree(loadavg: "garbage", cores: 2))
        XCTAssertNil(coresLeftFree(loadavg: "0.1 0.2 0.3 x/345 9", cores: 2))
        XCTAssertNil(coresLeftFree(loadavg: "0.1 0.2 0.3 0/345 9", cores: 2), "the caller itself runs: never 0")
        let now = coresLeftFree()
        XCTAssertTrue((1...ProcessInfo.processInfo.activeProcessorCount).contains(now), "\(now)")
    }
}
