// app=postmark: the PostMark mail-server benchmark (Katcher, NetApp TR3022),
// reimplemented with the parameters and report of Debian's `postmark` 1.51:
// a pool of `files` files with sizes uniform in [min,max] spread over
// `subdirs` directories; `transactions` transactions, each one read-or-append
// (bias_read in 10 chooses read) on a random pool file, then create-or-delete
// (bias_create in 10 chooses create); finally every remaining file is deleted.
// Reads and writes go in read_block/write_block pieces; an append adds a size
// uniform in [min,max]. The PRNG is seeded with `seed`, so runs repeat exactly.

struct PostmarkConfiguration {
    var root = "/ram"
    var files = 500
    var transactions = 500
    var minSize = 500
    var maxSize = 10000
    var subdirectories = 0
    var seed: UInt64 = 42
    var readBlock = 512
    var writeBlock = 512
    var biasRead = 5
    var biasCreate = 5

    init(_ arguments: ApplicationArguments) {
        root = arguments.string("root", default: root)
        files = max(1, arguments.integer("files", default: files))
        transactions = max(0, arguments.integer("transactions", default: transactions))
        minSize = max(0, arguments.integer("min", default: minSize))
        maxSize = max(minSize, arguments.integer("max", default: maxSize))
        subdirectories = max(0, arguments.integer("subdirs", default: subdirectories))
        seed = UInt64(truncatingIfNeeded: arguments.integer("seed", default: Int(seed)))
        readBlock = max(1, arguments.integer("read_block", default: readBlock))
        writeBlock = max(1, arguments.integer("write_block", default: writeBlock))
        biasRead = min(10, max(0, arguments.integer("bias_read", default: biasRead)))
        biasCreate = min(10, max(0, arguments.integer("bias_create", default: biasCreate)))
    }
}

func runPostmark(_ arguments: ApplicationArguments) -> Int32 {
    PostmarkRun(PostmarkConfiguration(arguments)).run()
}

private final class PostmarkRun {
    let configuration: PostmarkConfiguration
    let location: String
    var random: SeededRandom
    var pool: [(path: String, size: Int)] = []
    var nextName = 0
    var errors = 0
    var firstError: String? = nil
    let writeData: [UInt8]
    var readBuffer: [UInt8]

    // Counters as Debian postmark reports them.
    var createdAlone = 0, createdMixed = 0, deletedAlone = 0, deletedMixed = 0
    var readCount = 0, appendedCount = 0
    var bytesRead = 0, bytesWritten = 0

    init(_ configuration: PostmarkConfiguration) {
        self.configuration = configuration
        location = configuration.root + "/postmark"
        random = SeededRandom(seed: configuration.seed)
        var data = [UInt8](repeating: 0, count: configuration.writeBlock)
        for i in 0..<data.count { data[i] = UInt8(truncatingIfNeeded: random.next()) }
        writeData = data
        readBuffer = [UInt8](repeating: 0, count: configuration.readBlock)
    }

    func note(_ what: String, _ error: Errno) {
        errors += 1
        if firstError == nil { firstError = "\(what): \(error.name)" }
    }

    func directoryPath(_ index: Int) -> String {
        configuration.subdirectories == 0 ? location : location + "/s\(index)"
    }

    func createFile() -> Bool {
        let directory = directoryPath(configuration.subdirectories == 0 ? 0 : random.below(configuration.subdirectories))
        let path = directory + "/pm\(nextName)"
        nextName += 1
        let size = random.inRange(configuration.minSize, configuration.maxSize)
        do {
            let fd = try Posix.open(path, [.create, .exclusive, .writeOnly], permissions: 0o644)
            defer { try? Posix.close(fd) }
            try writeBlocks(fd, total: size)
            pool.append((path, size))
            return true
        } catch {
            note("create \(path)", error)
            return false
        }
    }

    func writeBlocks(_ fd: Int32, total: Int) throws(Errno) {
        var remaining = total
        try withBytes(of: writeData) { (data) throws(Errno) in
            while remaining > 0 {
                let piece = min(remaining, data.count)
                let count = try Posix.write(fd, UnsafeRawBufferPointer(rebasing: data[0..<piece]))
                guard count == piece else { throw Errno.EIO }
                remaining -= piece
                bytesWritten += piece
            }
        }
    }

    func deleteFile(at index: Int) -> Bool {
        let victim = pool[index]
        pool[index] = pool[pool.count - 1]
        pool.removeLast()
        do {
            try Posix.unlink(victim.path)
            return true
        } catch {
            note("delete \(victim.path)", error)
            return false
        }
    }

    func readFile(at index: Int) {
        do {
            let fd = try Posix.open(pool[index].path, .readOnly)
            defer { try? Posix.close(fd) }
            while true {
                let count = try Posix.read(fd, into: &readBuffer)
                if count == 0 { break }
                bytesRead += count
            }
            readCount += 1
        } catch { note("read \(pool[index].path)", error) }
    }

    func appendFile(at index: Int) {
        let size = random.inRange(configuration.minSize, configuration.maxSize)
        do {
            let fd = try Posix.open(pool[index].path, [.writeOnly, .append])
            defer { try? Posix.close(fd) }
            try writeBlocks(fd, total: size)
            pool[index].size += size
            appendedCount += 1
        } catch { note("append \(pool[index].path)", error) }
    }

    func run() -> Int32 {
        let c = configuration
        print("PostMark (swiftfs unikernel, after PostMark v1.51)")
        print("location=\(location) number=\(c.files) transactions=\(c.transactions) size=\(c.minSize)..\(c.maxSize) subdirectories=\(c.subdirectories) seed=\(c.seed) read_block=\(c.readBlock) write_block=\(c.writeBlock) bias_read=\(c.biasRead) bias_create=\(c.biasCreate)")
        do {
            try removeTree(location)
            try Posix.mkdir(location)
            for i in 0..<c.subdirectories { try Posix.mkdir(directoryPath(i)) }
        } catch {
            print("postmark: cannot prepare \(location): \(error.name)")
            return 1
        }
        resetFuseStatistics(root: c.root)
        let runStart = monotonicNanoseconds()
        print("Creating files...", terminator: "")
        for _ in 0..<c.files where createFile() { createdAlone += 1 }
        print("Done")

        print("Performing transactions", terminator: "")
        let transactionStart = monotonicNanoseconds()
        let dotEvery = max(1, c.transactions / 10)
        for t in 0..<c.transactions {
            if !pool.isEmpty {
                let index = random.below(pool.count)
                if random.below(10) < c.biasRead { readFile(at: index) } else { appendFile(at: index) }
            }
            if random.below(10) < c.biasCreate {
                if createFile() { createdMixed += 1 }
            } else if !pool.isEmpty {
                if deleteFile(at: random.below(pool.count)) { deletedMixed += 1 }
            }
            if (t + 1) % dotEvery == 0 { print(".", terminator: "") }
        }
        let transactionTime = monotonicNanoseconds() - transactionStart
        print("Done")

        print("Deleting files...", terminator: "")
        let deleteStart = monotonicNanoseconds()
        while !pool.isEmpty {
            if deleteFile(at: pool.count - 1) { deletedAlone += 1 }
        }
        for i in 0..<c.subdirectories { do { try Posix.rmdir(directoryPath(i)) } catch { note("rmdir", error) } }
        do { try Posix.rmdir(location) } catch { note("rmdir \(location)", error) }
        let deleteTime = monotonicNanoseconds() - deleteStart
        print("Done")
        let totalTime = monotonicNanoseconds() - runStart
        let createTime = transactionStart - runStart
        printReport(total: totalTime, transactions: transactionTime, create: createTime, delete: deleteTime)
        printFuseStatistics(app: "postmark", root: c.root)
        if let firstError = firstError { print("postmark: \(errors) errors, first: \(firstError)") }
        return errors == 0 ? 0 : 1
    }

    func printReport(total: UInt64, transactions: UInt64, create: UInt64, delete: UInt64) {
        let c = configuration
        let created = createdAlone + createdMixed
        let deleted = deletedAlone + deletedMixed
        func rate(_ count: Int, _ ns: UInt64) -> String { formatFixed(perSecond(count, nanoseconds: ns)) }
        let megabytesRead = Double(bytesRead) / bytesPerMegabyte
        let megabytesWritten = Double(bytesWritten) / bytesPerMegabyte
        let totalSeconds = Double(total) / 1e9
        print("Time:")
        print("\t\(seconds(total)) seconds total")
        print("\t\(seconds(transactions)) seconds of transactions (\(rate(c.transactions, transactions)) per second)")
        print("")
        print("Files:")
        print("\t\(created) created (\(rate(created, total)) per second)")
        print("\t\tCreation alone: \(createdAlone) files (\(rate(createdAlone, create)) per second)")
        print("\t\tMixed with transactions: \(createdMixed) files (\(rate(createdMixed, transactions)) per second)")
        print("\t\(readCount) read (\(rate(readCount, transactions)) per second)")
        print("\t\(appendedCount) appended (\(rate(appendedCount, transactions)) per second)")
        print("\t\(deleted) deleted (\(rate(deleted, total)) per second)")
        print("\t\tDeletion alone: \(deletedAlone) files (\(rate(deletedAlone, delete)) per second)")
        print("\t\tMixed with transactions: \(deletedMixed) files (\(rate(deletedMixed, transactions)) per second)")
        print("")
        print("Data:")
        print("\t\(formatFixed(megabytesRead)) megabytes read (\(formatFixed(megabytesRead / totalSeconds)) megabytes per second)")
        print("\t\(formatFixed(megabytesWritten)) megabytes written (\(formatFixed(megabytesWritten / totalSeconds)) megabytes per second)")
        print("RESULT postmark root=\(c.root) files=\(c.files) transactions=\(c.transactions) min=\(c.minSize) max=\(c.maxSize) subdirs=\(c.subdirectories) seed=\(c.seed) total_s=\(seconds(total)) transaction_s=\(seconds(transactions)) tps=\(rate(c.transactions, transactions)) created=\(created) read=\(readCount) appended=\(appendedCount) deleted=\(deleted) bytes_read=\(bytesRead) bytes_written=\(bytesWritten) read_MBps=\(formatFixed(megabytesRead / totalSeconds)) write_MBps=\(formatFixed(megabytesWritten / totalSeconds)) errors=\(errors)")
    }
}
