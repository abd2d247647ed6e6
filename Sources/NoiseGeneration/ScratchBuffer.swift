import Glibc

/// Uninitialized scratch memory for the large temporary arrays of `generate_noisy_labels`.
///
/// Buffers of 2 MiB or more are mapped directly, aligned to 2 MiB and advised as transparent huge
/// pages (`MADV_HUGEPAGE`), and optionally zero-filled by the kernel: first-touch page faults on
/// tens of megabytes of 4 KiB pages cost more than the algorithm itself on virtual machines, and
/// huge pages also spare the random accesses of the permutation most TLB misses. Smaller buffers
/// come from `malloc`. The memory is released when the buffer is.
@usableFromInline
final class ScratchBuffer<Element> {
  @usableFromInline let base: UnsafeMutablePointer<Element>
  @usableFromInline let count: Int
  private let mapping: UnsafeMutableRawPointer?
  private let mappedLength: Int

  private static var hugePage: Int { 2 << 20 }

  /// `count` elements; zero bytes when `zeroed` (mapped memory is always zero).
  @usableFromInline
  init?(count: Int, zeroed: Bool) {
    let stride = MemoryLayout<Element>.stride
    let (bytes, overflow) = count.multipliedReportingOverflow(by: stride)
    guard !overflow, count >= 0 else { return nil }
    self.count = count
    let hugePage = Self.hugePage
    if bytes >= hugePage {
      let length = bytes + hugePage
      let address = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
      guard let address, address != MAP_FAILED else { return nil }
      let raw = UInt(bitPattern: address)
      let aligned = (raw + UInt(hugePage) - 1) & ~UInt(hugePage - 1)
      let start = UnsafeMutableRawPointer(bitPattern: aligned)!
      _ = madvise(start, bytes, MADV_HUGEPAGE)
      mapping = address
      mappedLength = length
      base = start.bindMemory(to: Element.self, capacity: count)
    } else {
      let size = Swift.max(bytes, 1)
      guard let raw = zeroed ? calloc(1, size) : malloc(size) else { return nil }
      mapping = nil
      mappedLength = 0
      base = raw.bindMemory(to: Element.self, capacity: count)
    }
  }

  deinit {
    if let mapping {
      munmap(mapping, mappedLength)
    } else {
      free(base)
    }
  }

  @inlinable var buffer: UnsafeMutableBufferPointer<Element> {
    UnsafeMutableBufferPointer(start: base, count: count)
  }
}

/// Advises the kernel to back the whole 2 MiB pages inside `buffer` with transparent huge pages,
/// before they are first written. For memory the caller got from `malloc` (a large Swift array
/// is mapped fresh on every allocation), this turns one page fault per 4 KiB into one per
/// 2 MiB: writing 40 MB of new output took 19 ms with 4 KiB pages and 6 ms with huge pages on
/// this project's virtual machines. Pages already touched, and buffers under 4 MiB, are left
/// alone; the advice never changes the memory's contents.
@usableFromInline
func adviseHugePages(_ buffer: UnsafeMutableRawBufferPointer) {
  let hugePage = UInt(2 << 20)
  guard buffer.count >= 2 * Int(hugePage), let base = buffer.baseAddress else { return }
  let start = (UInt(bitPattern: base) + hugePage - 1) & ~(hugePage - 1)
  let end = (UInt(bitPattern: base) + UInt(buffer.count)) & ~(hugePage - 1)
  guard end > start, let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return }
  _ = madvise(aligned, Int(end - start), MADV_HUGEPAGE)
}
