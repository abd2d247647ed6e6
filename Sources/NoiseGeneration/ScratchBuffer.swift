import Glibc
import Synchronization

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

/// Faults in fresh memory ahead of the pass that will write it, with time that threads would
/// otherwise spend waiting: each of `workers` threads calls ``faultWhileOthersWork()`` when its
/// own work is done, and while any other is still working it touches the next 2 MiB of the
/// memory, one write per 4 KiB page (on huge pages the first write faults the whole 2 MiB). The
/// kernel zeroes each page on its first write; for the 40 MB output of 10 million labels that is
/// several milliseconds that the relabelling pass no longer spends.
///
/// The written bytes are garbage to the caller: only memory about to be overwritten qualifies.
@usableFromInline
final class PageFaulter: @unchecked Sendable {
  private let memory: UnsafeMutableRawBufferPointer
  /// The next 2 MiB chunk to touch.
  private let next = Atomic<Int>(0)
  /// Workers still doing their own work.
  private let working: Atomic<Int>

  @usableFromInline init(_ memory: UnsafeMutableRawBufferPointer, workers: Int) {
    self.memory = memory
    working = Atomic(workers)
  }

  @usableFromInline func faultWhileOthersWork() {
    working.subtract(1, ordering: .relaxed)
    guard let base = memory.baseAddress else { return }
    while working.load(ordering: .relaxed) > 0 {
      let start = next.add(1, ordering: .relaxed).oldValue * hugePageBytes
      if start >= memory.count { return }
      let end = Swift.min(start + hugePageBytes, memory.count)
      for offset in stride(from: start, to: end, by: 4096) {
        base.storeBytes(of: 0, toByteOffset: offset, as: UInt8.self)
      }
    }
  }
}
