// libFuzzer target: the .npy reader (header, labels, matrix) and writer.
import NoiseService

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  let bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
  if let header = try? NPY.header(bytes) {
    precondition(
      header.dataOffset <= size && header.count * header.dtype.size == size - header.dataOffset)
    // the writer's header must read back
    let written =
      NPY.header(dtype: header.dtype, count: 3)
      + [UInt8](repeating: 0, count: 3 * header.dtype.size)
    let reread = written.withUnsafeBytes { try? NPY.header($0) }
    precondition(reread?.shape == [3] && reread?.dtype == header.dtype)
  }
  _ = try? NPY.labels(bytes)
  if let matrix = try? NPY.matrix(bytes) {
    precondition(matrix.values.count == matrix.rows * matrix.columns)
  }
  return 0
}
