// libFuzzer target: the multipart form of POST /noisy-labels after libmicrohttpd has split the
// parts: true_labels (.npy), noise_matrix (.npy or JSON), seed (text), in any combination.
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  var input = FuzzSupport.Bytes(data, size)
  let shape = input.byte()
  // two length-prefixed parts, then the seed text from the rest
  let labelsLength = input.int(0...size)
  var labels: [UInt8] = []
  for _ in 0..<Swift.min(labelsLength, size) where !input.isEmpty { labels.append(input.byte()) }
  let matrixLength = input.int(0...size)
  var matrix: [UInt8] = []
  for _ in 0..<Swift.min(matrixLength, size) where !input.isEmpty { matrix.append(input.byte()) }
  var parts: [String: [UInt8]] = [:]
  if shape & 1 != 0 { parts["true_labels"] = labels }
  if shape & 2 != 0 { parts["noise_matrix"] = matrix }
  if shape & 4 != 0 { parts["seed"] = input.rest() }
  if shape & 8 != 0 { parts["bogus"] = [1] }
  return FuzzSupport.postParts(parts, npyAnswer: shape & 16 != 0)
}
