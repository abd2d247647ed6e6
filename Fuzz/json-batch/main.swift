// libFuzzer target: the JSON request decoder, validation and handler of POST /batch.
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  FuzzSupport.post("/batch", data, size)
}
