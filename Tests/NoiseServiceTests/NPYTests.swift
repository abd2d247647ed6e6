import Testing

@testable import NoiseService

@Suite("NPY")
struct NPYTests {
  static func file(_ descr: String, count: Int) -> [UInt8] {
    var header = Array(
      "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(count),), }".utf8)
    while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
    header.append(0x0A)
    return [0x93] + Array("NUMPY".utf8) + [
      1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8),
    ]
      + header + [UInt8](repeating: 7, count: count * Int(String(descr.last!))!)
  }

  @Test("a single byte has no byte order: >i1, <i1 and |i1 are the same dtype (found by fuzzing)")
  func singleByteOrder() throws {
    let dtypes = try [">i1", "<i1", "|i1"].map { descr in
      try Self.file(descr, count: 2).withUnsafeBytes { try NPY.header($0).dtype }
    }
    #expect(dtypes.allSatisfy { $0 == NPY.DType(kind: .signed, size: 1, bigEndian: false) })
    #expect(dtypes[0].descr == "|i1")
    let wide = try Self.file(">i8", count: 2).withUnsafeBytes { try NPY.header($0).dtype }
    #expect(wide.bigEndian && wide.descr == ">i8")
  }
}
