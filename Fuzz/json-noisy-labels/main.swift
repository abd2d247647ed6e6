// libFuzzer target: the JSON request decoder, validation and handler of POST /noisy-labels.
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  FuzzSupport.post("/noisy-labels", data, size)
}
