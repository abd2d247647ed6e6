/// A number as a Python caller would pass it to cleanlab: an `int` or a `float`.
///
/// Arithmetic never depends on the difference, because cleanlab only mixes these numbers with
/// floats. Messages do: cleanlab formats `trace=1` as `trace = 1.` but `trace=1.0` as
/// `trace = 1.0.`. Parameters that appear in cleanlab's messages therefore take a
/// `PythonNumber`, and Swift's literals pick the same type Python's would: `2` is an int,
/// `2.0` a float.
public enum PythonNumber: Equatable, Sendable, ExpressibleByIntegerLiteral,
  ExpressibleByFloatLiteral, CustomStringConvertible
{
  /// A Python `int`.
  case int(Int)
  /// A Python `float` (or a numpy `float64`, which prints the same with `str`).
  case float(Double)

  public init(integerLiteral value: Int) { self = .int(value) }
  public init(floatLiteral value: Double) { self = .float(value) }

  /// The value as a double, as Python converts it in mixed arithmetic.
  @inlinable public var value: Double {
    switch self {
    case .int(let i): return Double(i)
    case .float(let d): return d
    }
  }

  /// Python's `str()` of this number.
  public var pythonString: String {
    switch self {
    case .int(let i): return String(i)
    case .float(let d): return pythonRepr(d)
    }
  }

  public var description: String { pythonString }
}

/// Python's `repr()` of a float: the shortest string that reads back to the same bits.
///
/// Swift's `Double.description` finds the same shortest round-trip digits, but switches to
/// exponent notation at 2**53 where Python switches at 1e16, so the digits are re-laid out by
/// Python's rule (`float_repr_style = 'short'`): positional when the decimal exponent is in
/// `-4..<16`, with `.0` added to integers; otherwise `d.ddde±XX` with at least two exponent
/// digits. `inf`, `-inf` and `nan` are spelled as Python spells them. The fixtures check this
/// against Python for about 2,500 values.
public func pythonRepr(_ value: Double) -> String {
  if value.isNaN { return "nan" }
  if value.isInfinite { return value < 0 ? "-inf" : "inf" }
  if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
  // Decompose Swift's shortest representation into sign, digits and decimal exponent.
  var text = Substring(value.description)
  var sign = ""
  if text.hasPrefix("-") {
    sign = "-"
    text = text.dropFirst()
  }
  var exponent = 0
  if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
    exponent = Int(text[text.index(after: e)...]) ?? 0
    text = text[..<e]
  }
  let parts = text.split(separator: ".", omittingEmptySubsequences: false)
  let integerPart = String(parts[0])
  let fractionPart = parts.count > 1 ? String(parts[1]) : ""
  var digits = integerPart + fractionPart
  // the value is 0.d1d2... × 10^point
  var point = integerPart.count + exponent
  let leadingZeros = digits.prefix(while: { $0 == "0" }).count
  digits.removeFirst(leadingZeros)
  point -= leadingZeros
  while digits.hasSuffix("0") { digits.removeLast() }
  if digits.isEmpty { return sign + "0.0" }
  let decimalExponent = point - 1
  if decimalExponent >= -4 && decimalExponent < 16 {
    if point <= 0 {
      return sign + "0." + String(repeating: "0", count: -point) + digits
    }
    if point >= digits.count {
      return sign + digits + String(repeating: "0", count: point - digits.count) + ".0"
    }
    let cut = digits.index(digits.startIndex, offsetBy: point)
    return sign + digits[..<cut] + "." + digits[cut...]
  }
  let mantissa = digits.count == 1 ? digits : String(digits.first!) + "." + digits.dropFirst()
  let magnitude = abs(decimalExponent)
  let exponentText = magnitude < 10 ? "0\(magnitude)" : "\(magnitude)"
  return sign + mantissa + "e" + (decimalExponent < 0 ? "-" : "+") + exponentText
}
