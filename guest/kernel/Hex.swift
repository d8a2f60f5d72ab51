/// Lower-case hexadecimal, zero-padded to `width` digits, without a prefix.
func hex(_ value: UInt64, width: Int = 1) -> String {
    let digits: StaticString = "0123456789abcdef"
    var bytes: [UInt8] = []
    var remaining = value
    repeat {
        bytes.append(digits.utf8Start[Int(remaining & 0xF)])
        remaining >>= 4
    } while remaining != 0
    while bytes.count < width { bytes.append(UInt8(ascii: "0")) }
    return String(decoding: bytes.reversed(), as: UTF8.self)
}
