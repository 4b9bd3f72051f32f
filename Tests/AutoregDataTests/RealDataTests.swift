import AutoregData
import XCTest

/// Checks on the real data sets; each test skips, saying why, when its data is absent.
final class RealDataTests: XCTestCase {
    private func requireData(_ name: DatasetName) throws {
        guard DatasetCatalog.locate(name: name) != nil else {
            let places = DatasetCatalog.searchDirectories(name: name).joined(separator: ", ")
            throw XCTSkip("\(name.rawValue) data not found (looked in \(places))")
        }
    }

    private func histogram(_ labels: [Int]?) -> [Int] {
        var counts = [Int](repeating: 0, count: 10)
        for label in labels ?? [] { counts[label] += 1 }
        return counts
    }

    /// Sum and maximum of the pixels, in one pass (fast even in debug builds).
    private func sumAndMax(_ pixels: [UInt8]) -> (sum: Int, max: UInt8) {
        pixels.withUnsafeBufferPointer { buffer in
            var sum = 0, largest: UInt8 = 0
            for value in buffer {
                sum &+= Int(value)
                largest = Swift.max(largest, value)
            }
            return (sum, largest)
        }
    }

    func testBinarizedMNIST() throws {
        try requireData(.binarizedMNIST)
        for (split, expected) in [(Split.train, 50_000), (.valid, 10_000), (.test, 10_000)] {
            let data = try DatasetCatalog.load(name: .binarizedMNIST, split: split)
            XCTAssertEqual(data.count, expected)
            XCTAssertEqual(data.dimension, 784)
            XCTAssertEqual(data.levels, 2)
            let (sum, largest) = sumAndMax(data.pixels)
            XCTAssertEqual(largest, 1)
            // About 13% of binarized MNIST pixels are on.
            let onFraction = Double(sum) / Double(data.pixels.count)
            XCTAssertEqual(onFraction, 0.13, accuracy: 0.02, "\(split)")
        }
    }

    func testMNIST() throws {
        try requireData(.mnist)
        let train = try DatasetCatalog.load(name: .mnist, split: .train)
        let valid = try DatasetCatalog.load(name: .mnist, split: .valid)
        let test = try DatasetCatalog.load(name: .mnist, split: .test)
        XCTAssertEqual([train.count, valid.count, test.count], [50_000, 10_000, 10_000])
        XCTAssertEqual(train.levels, 256)
        // The published class counts of the 60 000 training and 10 000 test images.
        let trainHistogram = zip(histogram(train.labels), histogram(valid.labels)).map { $0 + $1 }
        XCTAssertEqual(trainHistogram, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
        XCTAssertEqual(histogram(test.labels), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
        XCTAssertEqual(sumAndMax(train.pixels).max, 255)
        let mean = Double(sumAndMax(test.pixels).sum) / Double(test.pixels.count)
        XCTAssertEqual(mean, 33.8, accuracy: 1.0)
    }

    func testFashionMNIST() throws {
        try requireData(.fashionMNIST)
        let train = try DatasetCatalog.load(name: .fashionMNIST, split: .train)
        let valid = try DatasetCatalog.load(name: .fashionMNIST, split: .valid)
        let test = try DatasetCatalog.load(name: .fashionMNIST, split: .test)
        XCTAssertEqual([train.count, valid.count, test.count], [50_000, 10_000, 10_000])
        XCTAssertEqual(zip(histogram(train.labels), histogram(valid.labels)).map { $0 + $1 }, Array(repeating: 6000, count: 10))
        XCTAssertEqual(histogram(test.labels), Array(repeating: 1000, count: 10))
    }
}
