// key=value words from the kernel command line; words without '=' are ignored
// (the command line may carry options meant for the kernel).

struct ApplicationArguments {
    private var values: [String: String] = [:]
    /// The first word if it has no '=' (an app name given bare).
    private(set) var firstBareWord: String? = nil

    init(parsing commandLine: String) {
        for (index, word) in commandLine.split(separator: " ").enumerated() {
            guard let equals = word.firstIndex(of: "=") else {
                if index == 0 { firstBareWord = String(word) }
                continue
            }
            let key = String(word[word.startIndex..<equals])
            values[key] = String(word[word.index(after: equals)...])
        }
    }

    func string(_ key: String, default fallback: String) -> String { values[key] ?? fallback }

    func integer(_ key: String, default fallback: Int) -> Int {
        guard let text = values[key], let value = Int(text) else { return fallback }
        return value
    }

    /// A comma-separated list ("roots=/ram,/host").
    func list(_ key: String, default fallback: [String]) -> [String] {
        guard let text = values[key] else { return fallback }
        return text.split(separator: ",").map { String($0) }
    }
}
