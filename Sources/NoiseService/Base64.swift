/// Standard base64 (RFC 4648, with padding), for the binary array form in JSON bodies.
enum Base64 {
  private static let alphabet = Array(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

  private static let reverse: [UInt8] = {
    var table = [UInt8](repeating: 0xff, count: 256)
    for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
    return table
  }()

  /// The bytes, or nil for text that is not padded base64.
  ///
  /// The length must be a multiple of 4, and `=` may only pad the last group (`xx==` or
  /// `xxx=`). Unused low bits of a padded group are ignored, as most decoders do. All groups but
  /// the last decode without branches; an invalid character anywhere sets the high bits of a
  /// running OR, checked once at the end.
  static func decode(_ text: String) -> [UInt8]? {
    var text = text
    return text.withUTF8 { input -> [UInt8]? in
      let n = input.count
      guard n % 4 == 0 else { return nil }
      guard n > 0, let src = input.baseAddress else { return [] }
      let pad = UInt8(ascii: "=")
      let padding = input[n - 1] == pad ? (input[n - 2] == pad ? 2 : 1) : 0
      let length = n / 4 * 3 - padding
      var invalid: UInt8 = 0
      let out = [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
        reverse.withUnsafeBufferPointer { table in
          let t = table.baseAddress!
          let dst = buffer.baseAddress!
          var i = 0
          var o = 0
          while i + 4 < n {
            let a = t[Int(src[i])]
            let b = t[Int(src[i + 1])]
            let c = t[Int(src[i + 2])]
            let d = t[Int(src[i + 3])]
            invalid |= a | b | c | d
            let triple = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
            dst[o] = UInt8(truncatingIfNeeded: triple >> 16)
            dst[o + 1] = UInt8(truncatingIfNeeded: triple >> 8)
            dst[o + 2] = UInt8(truncatingIfNeeded: triple)
            i += 4
            o += 3
          }
          let a = t[Int(src[i])]
          let b = t[Int(src[i + 1])]
          let c = padding == 2 ? 0 : t[Int(src[i + 2])]
          let d = padding >= 1 ? 0 : t[Int(src[i + 3])]
          invalid |= a | b | c | d
          let triple = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
          dst[o] = UInt8(truncatingIfNeeded: triple >> 16)
          if padding < 2 { dst[o + 1] = UInt8(truncatingIfNeeded: triple >> 8) }
          if padding < 1 { dst[o + 2] = UInt8(truncatingIfNeeded: triple) }
        }
        initialized = length
      }
      return invalid & 0xc0 == 0 ? out : nil
    }
  }

  /// The base64 text of `bytes`, written into `w` as the characters of a JSON string.
  static func encode(_ bytes: UnsafeRawBufferPointer, into w: inout JSONWriter) {
    let n = bytes.count
    w.write(capacity: (n + 2) / 3 * 4) { out in
      alphabet.withUnsafeBufferPointer { table in
        var i = 0
        var o = 0
        while i + 3 <= n {
          let triple = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
          out[o] = table[Int(triple >> 18 & 63)]
          out[o + 1] = table[Int(triple >> 12 & 63)]
          out[o + 2] = table[Int(triple >> 6 & 63)]
          out[o + 3] = table[Int(triple & 63)]
          i += 3
          o += 4
        }
        if n - i == 1 {
          let triple = UInt32(bytes[i]) << 16
          out[o] = table[Int(triple >> 18 & 63)]
          out[o + 1] = table[Int(triple >> 12 & 63)]
          out[o + 2] = UInt8(ascii: "=")
          out[o + 3] = UInt8(ascii: "=")
          o += 4
        } else if n - i == 2 {
          let triple = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
          out[o] = table[Int(triple >> 18 & 63)]
          out[o + 1] = table[Int(triple >> 12 & 63)]
          out[o + 2] = table[Int(triple >> 6 & 63)]
          out[o + 3] = UInt8(ascii: "=")
          o += 4
        }
        return o
      }
    }
  }
}
