import Glibc

/// Uninitialized scratch memory for the large temporary arrays of `generate_noisy_labels`.
///
/// Buffers of 2 MiB or more are mapped directly, aligned to 2 MiB and advised as transparent huge
/// pages (``adviseHugePages(_:)``), and optionally zero-filled by the kernel: first-touch page faults on
/// tens of megabytes of 4 KiB pages cost more than the algorithm itself on virtual machines, and
/// huge pages also spare the random accesses of the permutation most TLB misses. Smaller buffers
/// come from `malloc`. The memory is released when the buffer is.
@usableFromInline
final class ScratchBuffer<Element> {
  @usableFromInline let base: UnsafeMutablePointer<Element>
  @usableFromInline let count: Int
  private let mapping: UnsafeMutableRawPointer?
  private let mappedLength: Int

  /// `count` elements; zero bytes when `zeroed` (mapped memory is always zero).
  @usableFromInline
  init?(count: Int, zeroed: Bool) {
    let stride = MemoryLayout<Element>.stride
    let (bytes, overflow) = count.multipliedReportingOverflow(by: stride)
    guard !overflow, count >= 0 else { return nil }
    self.count = count
    if bytes >= hugePageBytes {
      // one huge page of slack, so that the buffer can start on a huge-page boundary
      let length = bytes + hugePageBytes
      let address = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
      guard let address, address != MAP_FAILED else { return nil }
      adviseHugePages(UnsafeMutableRawBufferPointer(start: address, count: length))
      let start = UnsafeMutableRawPointer(bitPattern: hugePageAligned(UInt(bitPattern: address)))!
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
/// this project's virtual machines. Only whole huge pages inside the buffer are advised, and
/// only for buffers of 4 MiB or more; the advice never changes the memory's contents.
@usableFromInline
func adviseHugePages(_ buffer: UnsafeMutableRawBufferPointer) {
  guard buffer.count >= 2 * hugePageBytes, let base = buffer.baseAddress else { return }
  let start = hugePageAligned(UInt(bitPattern: base))
  let end = (UInt(bitPattern: base) + UInt(buffer.count)) & ~UInt(hugePageBytes - 1)
  guard end > start, let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return }
  _ = madvise(aligned, Int(end - start), MADV_HUGEPAGE)
}

/// A transparent huge page on x86-64 Linux.
let hugePageBytes = 2 << 20

/// `address` rounded up to a huge-page boundary.
func hugePageAligned(_ address: UInt) -> UInt {
  (address + UInt(hugePageBytes) - 1) & ~UInt(hugePageBytes - 1)
}
