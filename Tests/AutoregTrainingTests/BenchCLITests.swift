import Foundation
import XCTest

/// The JSON lines of `autoreg bench` carry the field names benchmarks/compare.py reads (it
/// takes the last line of output that parses as a JSON object).
final class BenchCLITests: CLITestCase {
    /// What compare.py reads from `bench train` and `bench eval`, named as it names them.
    struct Throughput: Decodable {
        var framework, task, model: String
        var levels, batch, threads, parameters: Int
        var images_per_s_median, images_per_s_min, images_per_s_max: Double
        var peak_rss_mib, gflops, sgemm_peak_gflops: Double
        var machine: String
    }

    /// What compare.py reads from `bench sample`.
    struct Sampling: Decodable {
        var framework, task, model, sampler: String
        var levels, count, threads, parameters: Int
        var seconds, seconds_min, seconds_max, images_per_s_median, peak_rss_mib: Double
        var extrapolated_from_pixels: Int?
        var machine: String
    }

    func lastJSONLine<T: Decodable>(_ r: Result, as type: T.Type, file: StaticString = #filePath,
                                    line: UInt = #line) throws -> T {
        assertSucceeds(r, file: file, line: line)
        let jsonLine = try XCTUnwrap(r.stdout.split(separator: "\n").last { $0.hasPrefix("{") },
                                     "a JSON line: \(r.all)", file: file, line: line)
        return try JSONDecoder().decode(T.self, from: Data(jsonLine.utf8))
    }

    func testTrainAndEvalJSONHaveTheFieldsCompareReads() throws {
        for task in ["train", "eval"] {
            let r = try run(["bench", task, "--model", "made", "--hidden", "50", "--batch", "8", "--steps", "3",
                             "--warmup", "1", "--threads", "1", "--json"])
            let record = try lastJSONLine(r, as: Throughput.self)
            XCTAssertEqual(record.framework, "autoreg")
            XCTAssertEqual(record.task, task)
            XCTAssertEqual(record.model, "made")
            XCTAssertEqual([record.levels, record.batch, record.threads], [2, 8, 1])
            XCTAssertGreaterThan(record.parameters, 0)
            XCTAssertLessThanOrEqual(record.images_per_s_min, record.images_per_s_median)
            XCTAssertLessThanOrEqual(record.images_per_s_median, record.images_per_s_max)
            XCTAssertGreaterThan(record.images_per_s_min, 0)
            XCTAssertGreaterThan(record.peak_rss_mib, 0)
            XCTAssertGreaterThan(record.sgemm_peak_gflops, 0)
            // The harness's header line: `Machine.summary`, as `bench gemm` prints it.
            XCTAssertTrue(record.machine.contains("oneDNN") && record.machine.contains("C kernels"), record.machine)
        }
    }

    func testSampleJSONHasTheFieldsCompareReads() throws {
        let r = try run(["bench", "sample", "--model", "made", "--hidden", "50", "--count", "2", "--sampler", "naive",
                         "--pixels", "2", "--threads", "1", "--json"])
        let record = try lastJSONLine(r, as: Sampling.self)
        XCTAssertEqual([record.framework, record.task, record.model, record.sampler], ["autoreg", "sample", "made", "naive"])
        XCTAssertEqual(record.count, 2)
        XCTAssertEqual(record.extrapolated_from_pixels, 2)
        XCTAssertGreaterThan(record.seconds, 0)
        XCTAssertGreaterThan(record.images_per_s_median, 0)
        XCTAssertTrue(record.machine.contains("oneDNN") && record.machine.contains("C kernels"), record.machine)
    }

    func testBenchKeepsUserBenchmarksOnly() throws {
        let r = try run(["bench", "--help"])
        assertSucceeds(r)
        for sub in ["train", "eval", "sample", "gemm"] { XCTAssertTrue(r.stdout.contains(sub), "bench --help lists \(sub)") }
        let subcommands = r.stdout.split(separator: "\n").map { $0.split(separator: " ").first.map(String.init) ?? "" }
        XCTAssertFalse(subcommands.contains("conv"), "bench conv moved to autoreg-lab: \(r.stdout)")
        let gemm = try run(["bench", "gemm", "--help"])
        XCTAssertFalse(gemm.stdout.contains("--onednn"), "bench gemm --onednn moved to autoreg-lab matmul")
    }
}

/// `autoreg-lab conv` writes the JSON that benchmarks/conv_shapes.py and compare_conv.py read.
final class LabCLITests: CLITestCase {
    override var executableName: String { "autoreg-lab" }
    override var workDirLabel: String { "autoreg-lab-cli" }

    /// The fields of a shape row that conv_shapes.py reads (and compare_conv.py's timings).
    struct Row: Decodable {
        var id, model: String
        var uses, batch, in_channels, out_channels, height, width: Int
        var kernel, dilation, padding: [Int]
        var input_grad: Bool
        var mask: [[Int]]?
        var mask_flat: [Int]?
        var fwd_ms, fwdbwd_ms: Double?
        var onednn_c: OneDNN?
    }

    struct OneDNN: Decodable {
        var library: String
        var fwd_ms, fwdbwd_ms, fwd_conv_ms, fwdbwd_conv_ms, max_abs_diff: Double
    }

    struct Record: Decodable {
        var framework, task: String
        var rows: [Row]
    }

    func decode(_ r: Result) throws -> Record {
        assertSucceeds(r)
        let line = try XCTUnwrap(r.stdout.split(separator: "\n").last { $0.hasPrefix("{") }, r.all)
        return try JSONDecoder().decode(Record.self, from: Data(line.utf8))
    }

    func testListJSON() throws {
        let record = try decode(try run(["conv", "--list", "--json", "--only", "gated.input"]))
        XCTAssertEqual([record.framework, record.task], ["autoreg", "conv"])
        XCTAssertEqual(record.rows.map(\.id), ["gated.input.vertical", "gated.input.horizontal"])
        let h = record.rows[1]
        XCTAssertEqual([h.kernel, h.dilation, h.padding], [[1, 3], [1, 1], [0, 0, 1, 1]])
        XCTAssertEqual(h.mask, [[1, 0, 0]])
        XCTAssertFalse(h.input_grad)
        XCTAssertNil(h.fwd_ms, "--list times nothing")
    }

    func testTinyTimedRunWithOneDNN() throws {
        let record = try decode(try run(["conv", "--json", "--only", "gated.input.horizontal", "--batch", "2",
                                         "--repeats", "1", "--warmup", "0", "--onednn", "--threads", "1"]))
        let row = try XCTUnwrap(record.rows.first)
        XCTAssertGreaterThan(try XCTUnwrap(row.fwd_ms), 0)
        XCTAssertGreaterThan(try XCTUnwrap(row.fwdbwd_ms), 0)
        let o = try XCTUnwrap(row.onednn_c)
        XCTAssertTrue(o.library.hasPrefix("oneDNN"))
        XCTAssertLessThan(o.max_abs_diff, 1e-4, "oneDNN computes the same convolution")
    }
}
