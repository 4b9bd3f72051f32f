/// A set of equally sized images held as bytes, with optional class labels.
///
/// `pixels` holds `count * height * width * channels` values: image after image, each image
/// row-major with channels last. Pixel values lie in `0..<levels`: `levels == 2` for binary
/// data (pixels 0/1), `levels == 256` for 8-bit data.
public struct ImageDataset: Sendable {
    public var name: String
    public var pixels: [UInt8]
    public var count: Int
    public var height: Int
    public var width: Int
    public var channels: Int
    public var levels: Int
    /// One label per image, if the data set has labels, each in `0..<classes`.
    public var labels: [Int]?
    /// The number of classes the data set's labels are drawn from (10 for MNIST and CIFAR-10,
    /// the class folders of a PNG data set), whether or not every class occurs in this
    /// split; 0 when it has no labels.
    public var classes: Int

    /// Creates a data set; the sizes must agree with `pixels` and `labels`, and every label
    /// must lie in `0..<classes` (`classes` defaults to the largest label + 1). Readers check
    /// labels from files first and throw an error naming the file (see `checkLabels`).
    public init(name: String, pixels: [UInt8], count: Int, height: Int, width: Int, channels: Int = 1,
                levels: Int, labels: [Int]? = nil, classes: Int? = nil) {
        precondition(count >= 0 && height > 0 && width > 0 && channels > 0, "invalid image dimensions")
        precondition(pixels.count == count * height * width * channels, "pixel count does not match dimensions")
        precondition((2...256).contains(levels), "levels must be in 2...256")
        precondition(labels.map { $0.count == count } ?? true, "label count does not match image count")
        let classes = labels == nil ? 0 : classes ?? (labels!.max().map { $0 + 1 } ?? 0)
        precondition(labels?.allSatisfy { $0 >= 0 && $0 < classes } ?? true, "labels must lie in 0..<\(classes)")
        self.classes = classes
        self.name = name
        self.pixels = pixels
        self.count = count
        self.height = height
        self.width = width
        self.channels = channels
        self.levels = levels
        self.labels = labels
    }

    /// The images of `self` followed by those of `other` (same shape and levels).
    public func appending(_ other: ImageDataset, name: String? = nil) -> ImageDataset {
        precondition(height == other.height && width == other.width && channels == other.channels
                     && levels == other.levels, "cannot join \(self.name) and \(other.name): shapes or levels differ")
        let joined: [Int]? = labels.flatMap { a in other.labels.map { a + $0 } }
        return ImageDataset(name: name ?? "\(self.name)+\(other.name)", pixels: pixels + other.pixels,
                            count: count + other.count, height: height, width: width, channels: channels,
                            levels: levels, labels: joined, classes: max(classes, other.classes))
    }

    /// Number of values per image (`height * width * channels`).
    public var dimension: Int { height * width * channels }

    /// The pixels of image `index`.
    public func image(_ index: Int) -> ArraySlice<UInt8> {
        precondition(index >= 0 && index < count, "image index \(index) out of range 0..<\(count)")
        return pixels[index * dimension..<(index + 1) * dimension]
    }

    /// The images at `indices`, in that order (indices may repeat).
    public func subset(_ indices: [Int], name: String? = nil) -> ImageDataset {
        let d = dimension
        var picked = [UInt8]()
        picked.reserveCapacity(indices.count * d)
        for index in indices {
            precondition(index >= 0 && index < count, "image index \(index) out of range 0..<\(count)")
            picked.append(contentsOf: pixels[index * d..<(index + 1) * d])
        }
        return ImageDataset(name: name ?? self.name, pixels: picked, count: indices.count, height: height,
                            width: width, channels: channels, levels: levels,
                            labels: labels.map { all in indices.map { all[$0] } }, classes: classes)
    }

    /// The first `n` images.
    public func prefix(_ n: Int, name: String? = nil) -> ImageDataset {
        precondition(n >= 0 && n <= count, "prefix length \(n) out of range 0...\(count)")
        return subset(Array(0..<n), name: name)
    }

    /// The last `n` images.
    public func suffix(_ n: Int, name: String? = nil) -> ImageDataset {
        precondition(n >= 0 && n <= count, "suffix length \(n) out of range 0...\(count)")
        return subset(Array(count - n..<count), name: name)
    }

    /// The first `firstCount` images and the rest, as two data sets.
    public func split(firstCount: Int) -> (first: ImageDataset, rest: ImageDataset) {
        (prefix(firstCount), suffix(count - firstCount))
    }
}

/// Checks that every label lies in `0..<classes`; the error names `path`, the index of the
/// first label outside, and its value.
public func checkLabels(_ labels: [Int], classes: Int, path: String) throws {
    if let i = labels.firstIndex(where: { $0 < 0 || $0 >= classes }) {
        throw DataError.unusable(path: path, reason: "label \(labels[i]) of item \(i) is outside the "
            + "\(classes) classes 0...\(classes - 1)")
    }
}
