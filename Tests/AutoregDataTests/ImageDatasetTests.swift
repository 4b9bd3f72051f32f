import AutoregData
import XCTest

final class ImageDatasetTests: XCTestCase {
    private func grey(_ pixels: [UInt8], count: Int, labels: [Int]? = nil) -> ImageDataset {
        ImageDataset(name: "t", pixels: pixels, count: count, height: 1, width: pixels.count / count, levels: 256, labels: labels)
    }

    func testFixedBinarizationThreshold() throws {
        let data = grey([0, 127, 128, 255, 1, 200], count: 2)
        let binary = data.binarizedFixed()
        XCTAssertEqual(binary.pixels, [0, 0, 1, 1, 0, 1])
        XCTAssertEqual(binary.levels, 2)
        // value/255 > 0.5 exactly when value >= 128.
        for value in 0...255 {
            XCTAssertEqual(grey([UInt8(value)], count: 1).binarizedFixed().pixels[0] == 1, Double(value) / 255 > 0.5)
        }
        XCTAssertEqual(data.binarizedFixed(threshold: 0).pixels, [0, 1, 1, 1, 1, 1])
    }

    func testDynamicBinarizationFrequencies() throws {
        let values: [UInt8] = [0, 32, 128, 200, 255]
        let draws = 20_000
        let data = grey(Array(repeating: values, count: draws).flatMap { $0 }, count: draws)
        var rng = SplitMix64(seed: 99)
        let sample = dynamicBinarization(of: data, using: &rng)
        XCTAssertEqual(sample.levels, 2)
        for (k, value) in values.enumerated() {
            let ones = stride(from: k, to: sample.pixels.count, by: values.count).filter { sample.pixels[$0] == 1 }.count
            let p = Double(value) / 255
            // Four standard deviations of a binomial proportion, at least 0.
            XCTAssertEqual(Double(ones) / Double(draws), p, accuracy: 4 * (p * (1 - p) / Double(draws)).squareRoot() + 1e-9)
        }
        var again = SplitMix64(seed: 99)
        XCTAssertEqual(data.dynamicallyBinarized(using: &again).pixels, sample.pixels, "same seed, same sample")
    }

    func testDynamicBinarizedBatchMatchesDistribution() throws {
        let data = grey([0, 255, 102], count: 1)
        var rng = SplitMix64(seed: 5)
        var buffer = [Float](repeating: -1, count: 3 * 4000)
        buffer.withUnsafeMutableBufferPointer {
            data.dynamicallyBinarizedBatch(indices: Array(repeating: 0, count: 4000), using: &rng, into: $0.baseAddress!)
        }
        XCTAssertTrue(buffer.allSatisfy { $0 == 0 || $0 == 1 })
        XCTAssertEqual(stride(from: 0, to: buffer.count, by: 3).map { buffer[$0] }.reduce(0, +), 0)
        XCTAssertEqual(stride(from: 1, to: buffer.count, by: 3).map { buffer[$0] }.reduce(0, +), 4000)
        let mean = stride(from: 2, to: buffer.count, by: 3).map { buffer[$0] }.reduce(0, +) / 4000
        XCTAssertEqual(Double(mean), 0.4, accuracy: 0.035)
    }

    func testSubsetSplitAndBatches() throws {
        let data = grey([1, 2, 3, 4, 5, 6, 7, 8], count: 4, labels: [10, 11, 12, 13])
        XCTAssertEqual(data.dimension, 2)
        let picked = data.subset([3, 0, 3])
        XCTAssertEqual(picked.count, 3)
        XCTAssertEqual(picked.pixels, [7, 8, 1, 2, 7, 8])
        XCTAssertEqual(picked.labels, [13, 10, 13])
        let (first, rest) = data.split(firstCount: 3)
        XCTAssertEqual(first.pixels, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(rest.pixels, [7, 8])
        XCTAssertEqual(rest.labels, [13])
        XCTAssertEqual(Array(data.image(2)), [5, 6])
        XCTAssertEqual(data.floatBatch(indices: [2, 1]), [5, 6, 3, 4])
        XCTAssertEqual(data.labelBatch(indices: [2, 1]), [12, 11])
        var buffer = [Float](repeating: 0, count: 2)
        buffer.withUnsafeMutableBufferPointer { data.floatBatch(indices: [3], into: $0.baseAddress!) }
        XCTAssertEqual(buffer, [7, 8])
    }

    func testAppendingJoinsImagesAndLabelsInOrder() throws {
        let a = ImageDataset(name: "a", pixels: [0, 1, 1, 0], count: 2, height: 1, width: 2, levels: 2, labels: [3, 4])
        let b = ImageDataset(name: "b", pixels: [1, 1], count: 1, height: 1, width: 2, levels: 2, labels: [5])
        let ab = a.appending(b)
        XCTAssertEqual(ab.count, 3)
        XCTAssertEqual(ab.pixels, [0, 1, 1, 0, 1, 1])
        XCTAssertEqual(ab.labels, [3, 4, 5])
        XCTAssertEqual(ab.name, "a+b")
        let unlabeled = ImageDataset(name: "c", pixels: [0, 0], count: 1, height: 1, width: 2, levels: 2)
        XCTAssertNil(a.appending(unlabeled).labels, "labels only when both sides have them")
    }
}
