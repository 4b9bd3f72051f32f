import Foundation

/// The products `autoreg bench gemm` and `autoreg-lab matmul` time: squares, then a MADE
/// 784-500-784 step at batch 100 and, per image, the Gated PixelCNN's vertical 3x3
/// convolution (64 -> 128 channels over the 6 taps it keeps, 784 pixels) as one product over
/// the column matrix and as the Winograd rows run it (per point of F(2,3) and tap row: 392
/// tiles of two outputs; the input gradient over both tap rows at once), and PixelCNN++'s
/// block convolutions at 28x28, 14x14 and 7x7.
public struct GemmShape: Sendable {
    public var label: String
    public var transA: Bool, transB: Bool
    public var m: Int, n: Int, k: Int
    /// Runs to time: `repeats` for squares up to 1024, 3 for 2048³, five times `repeats` for
    /// the model shapes.
    public var repeats: Int

    /// PixelCNN++'s block convolutions per image (2×3 taps over 64 channels; the gate gives
    /// 64 outputs, the first convolution 32) at the network's three resolutions. A product over
    /// 16 images of 7×7 has the shape of one 28×28 image.
    static let pixelCNNPlusPlus: [(String, Bool, Bool, Int, Int, Int)] = [(784, "28x28"), (196, "14x14"), (49, " 7x7 ")]
        .flatMap { pixels, size in
            [("pcnn++ \(size) fwd   64x384 . 384x\(pixels)", false, false, 64, pixels, 384),
             ("pcnn++ \(size) fwd   32x384 . 384x\(pixels)", false, false, 32, pixels, 384),
             ("pcnn++ \(size) dW    64x\(pixels) . 384x\(pixels)'", false, true, 64, 384, pixels),
             ("pcnn++ \(size) dX    64x384' . 64x\(pixels)", true, false, 384, pixels, 64),
             ("pcnn++ \(size) dX    32x384' . 32x\(pixels)", true, false, 384, pixels, 32)]
        }

    public static func all(repeats: Int) -> [GemmShape] {
        let squares = [256, 512, 1024, 2048].map { size in
            GemmShape(label: String(format: "sgemm %4d x %4d x %4d", size, size, size), transA: false, transB: false,
                      m: size, n: size, k: size, repeats: size >= 2048 ? 3 : repeats)
        }
        let model: [(String, Bool, Bool, Int, Int, Int)] = [
            ("made fwd   100x784 . 784x500", false, false, 100, 500, 784),
            ("made dX    100x500 . 500x784'", false, true, 100, 784, 500),
            ("made dW    784x100' . 100x500", true, false, 784, 500, 100),
            ("gated fwd  128x384 . 384x784", false, false, 128, 784, 384),
            ("gated dW   128x784 . 384x784'", false, true, 128, 384, 784),
            ("gated dX   128x384' . 128x784", true, false, 384, 784, 128),
            ("gated wino fwd  128x64 . 64x392", false, false, 128, 392, 64),
            ("gated wino dW   128x392 . 64x392'", false, true, 128, 64, 392),
            ("gated wino dX   128x128' . 128x392", true, false, 128, 392, 128),
        ] + pixelCNNPlusPlus
        return squares + model.map {
            GemmShape(label: $0.0, transA: $0.1, transB: $0.2, m: $0.3, n: $0.4, k: $0.5, repeats: repeats * 5)
        }
    }
}
