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
  static func decode(_ text: String) -> [UInt8]? {
    var text = text
    return text.withUTF8 { input -> [UInt8]? in
      let n = input.count
      guard n % 4 == 0 else { return nil }
      if n == 0 { return [] }
      var padding = 0
      if input[n - 1] == UInt8(ascii: "=") { padding += 1 }
      if input[n - 2] == UInt8(ascii: "=") { padding += 1 }
      let length = n / 4 * 3 - padding
      var valid = true
      let out = [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
        var o = 0
        var i = 0
        while i < n {
          let a = reverse[Int(input[i])]
          let b = reverse[Int(input[i + 1])]
          let c = input[i + 2] == UInt8(ascii: "=") && i + 4 == n ? 0 : reverse[Int(input[i + 2])]
          let d = input[i + 3] == UInt8(ascii: "=") && i + 4 == n ? 0 : reverse[Int(input[i + 3])]
          if (a | b | c | d) & 0xc0 != 0 {
            valid = false
            break
          }
          let triple = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
          if o < length {
            buffer[o] = UInt8(truncatingIfNeeded: triple >> 16)
            o += 1
          }
          if o < length {
            buffer[o] = UInt8(truncatingIfNeeded: triple >> 8)
            o += 1
          }
          if o < length {
            buffer[o] = UInt8(truncatingIfNeeded: triple)
            o += 1
          }
          i += 4
        }
        initialized = valid ? length : o
      }
      return valid ? out : nil
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
