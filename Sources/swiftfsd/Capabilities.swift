/// What `--print-capabilities` prints: the back-end capabilities JSON of
/// QEMU's docs/interop/vhost-user.json (type "fs"). "separate-options"
/// tells libvirt we take --shared-dir style options; live migration is not
/// supported, so "migrate-precopy" is not claimed.
enum Capabilities {
    static let features = ["separate-options"]

    static var json: String {
        let list = features.map { "    \"\($0)\"" }.joined(separator: ",\n")
        return "{\n  \"type\": \"fs\",\n  \"features\": [\n\(list)\n  ]\n}"
    }
}
