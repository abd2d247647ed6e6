// libFuzzer target: the JSON request decoder, validation and handler of POST /balls-into-bins.
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  FuzzSupport.post("/balls-into-bins", data, size)
}
