import SwiftFSProtocol

// The vhost-user wire format (QEMU docs/interop/vhost-user.rst): a 12-byte
// header, a payload of `size` bytes, file descriptors as SCM_RIGHTS.

/// Front-end requests (the ones a virtio-fs back end sees, and the rest by number).
public enum VhostUserRequest: UInt32, Sendable {
    case getFeatures = 1
    case setFeatures = 2
    case setOwner = 3
    case resetOwner = 4
    case setMemTable = 5
    case setLogBase = 6
    case setLogFd = 7
    case setVringNum = 8
    case setVringAddr = 9
    case setVringBase = 10
    case getVringBase = 11
    case setVringKick = 12
    case setVringCall = 13
    case setVringErr = 14
    case getProtocolFeatures = 15
    case setProtocolFeatures = 16
    case getQueueNum = 17
    case setVringEnable = 18
    case sendRarp = 19
    case netSetMtu = 20
    case setBackendReqFd = 21
    case iotlbMsg = 22
    case setVringEndian = 23
    case getConfig = 24
    case setConfig = 25
    case getInflightFd = 31
    case setInflightFd = 32
    case resetDevice = 34
    case vringKick = 35
    case getMaxMemSlots = 36
    case addMemReg = 37
    case remMemReg = 38
    case setStatus = 39
    case getStatus = 40
    case getShmemConfig = 44
}

/// Back-end requests: sent by the back end on the channel from SET_BACKEND_REQ_FD.
public enum VhostUserBackendRequest: UInt32, Sendable {
    case shmemMap = 9
    case shmemUnmap = 10
}

/// VHOST_USER_PROTOCOL_F_* bit numbers.
public enum VhostUserProtocolFeature {
    public static let multiQueue: UInt64 = 1 << 0
    public static let logSharedMemory: UInt64 = 1 << 1
    public static let replyAck: UInt64 = 1 << 3
    public static let backendRequests: UInt64 = 1 << 5
    public static let config: UInt64 = 1 << 9
    public static let resetDevice: UInt64 = 1 << 13
    public static let configureMemSlots: UInt64 = 1 << 15
    /// VIRTIO shared memory regions the back end maps files into (SHMEM_MAP/UNMAP, GET_SHMEM_CONFIG).
    public static let sharedMemory: UInt64 = 1 << 20
}

/// The message header.
public struct VhostUserHeader: WireRecord {
    public var request: UInt32 = 0
    public var flags: UInt32 = 0
    public var size: UInt32 = 0
    public init() {}
    public init(request: UInt32, flags: UInt32, size: UInt32) {
        self.request = request; self.flags = flags; self.size = size
    }

    /// Protocol version 1 in the low two bits.
    public static let version: UInt32 = 0x1
    public static let versionMask: UInt32 = 0x3
    public static let replyFlag: UInt32 = 1 << 2
    public static let needReplyFlag: UInt32 = 1 << 3
    /// Payloads are small (a memory table of 8 regions is 264 bytes); refuse anything huge.
    public static let maxPayload = 4096

    public var needsReply: Bool { flags & Self.needReplyFlag != 0 }
}

/// Payload of SET_VRING_NUM/BASE/ENABLE and GET_VRING_BASE's reply.
public struct VhostUserVringState: WireRecord {
    public var index: UInt32 = 0
    public var num: UInt32 = 0
    public init() {}
    public init(index: UInt32, num: UInt32) { self.index = index; self.num = num }
}

/// Payload of SET_VRING_ADDR: note `used` before `available`.
public struct VhostUserVringAddress: WireRecord {
    public var index: UInt32 = 0
    public var flags: UInt32 = 0
    public var descriptors: UInt64 = 0
    public var used: UInt64 = 0
    public var available: UInt64 = 0
    public var log: UInt64 = 0
    public init() {}
}

/// One memory region of SET_MEM_TABLE / ADD_MEM_REG / REM_MEM_REG.
public struct VhostUserMemoryRegionDescription: WireRecord {
    public var guestPhysicalAddress: UInt64 = 0
    public var memorySize: UInt64 = 0
    public var userAddress: UInt64 = 0
    public var mmapOffset: UInt64 = 0
    public init() {}
}

/// SET_MEM_TABLE's payload header: the count, then that many regions.
public struct VhostUserMemoryTableHeader: WireRecord {
    public var regionCount: UInt32 = 0
    public var padding: UInt32 = 0
    public init() {}
    /// VHOST_MEMORY_BASELINE_NREGIONS
    public static let maxRegions = 8
}

/// ADD_MEM_REG / REM_MEM_REG payload: 8 bytes of padding, then one region.
public struct VhostUserSingleMemoryRegion: WireRecord {
    public var padding: UInt64 = 0
    public var region = VhostUserMemoryRegionDescription()
    public init() {}
}

/// SET_VRING_KICK/CALL/ERR payload: the queue index in bits 0-7, and bit 8
/// set when no file descriptor accompanies the message.
public struct VhostUserVringFileDescriptor {
    public static let indexMask: UInt64 = 0xff
    public static let noFileDescriptorFlag: UInt64 = 1 << 8
}

/// A received message: header, payload bytes and any passed descriptors
/// (owned by the receiver: closed unless taken).
public struct VhostUserMessage {
    public var header: VhostUserHeader
    public var payload: [UInt8]
    /// Owned by the message: closed with it unless taken.
    public let fds: ReceivedDescriptors
    /// It came with more descriptors than a message may carry; they were all closed.
    public var descriptorsDropped: Bool

    public init(header: VhostUserHeader, payload: [UInt8], fds: ReceivedDescriptors, descriptorsDropped: Bool = false) {
        self.header = header; self.payload = payload; self.fds = fds; self.descriptorsDropped = descriptorsDropped
    }

    public var request: VhostUserRequest? { VhostUserRequest(rawValue: header.request) }

    /// Decodes the payload as one record; nil if it is too short.
    public func decode<T: WireRecord>(_: T.Type = T.self) -> T? {
        payload.withUnsafeBytes { bytes in
            var reader = ByteReader(bytes)
            return reader.read(T.self)
        }
    }

    /// The payload as a u64 (features, kick/call index word).
    public var u64: UInt64? { decode(VhostUserU64.self)?.value }
}

/// A bare u64 payload (features, the kick/call index word, a REPLY_ACK status).
public struct VhostUserU64: WireRecord {
    public var value: UInt64 = 0
    public init() {}
    public init(_ value: UInt64) { self.value = value }
}

/// Payload of SHMEM_MAP / SHMEM_UNMAP (struct VhostUserMMap): map `length`
/// bytes of the passed descriptor from `fdOffset` at `shmOffset` of the
/// shared memory region `shmid`.
public struct VhostUserSharedMemoryMapping: WireRecord {
    public var shmid: UInt8 = 0
    public var padding: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0)
    public var fdOffset: UInt64 = 0
    public var shmOffset: UInt64 = 0
    public var length: UInt64 = 0
    public var flags: UInt64 = 0
    public init() {}

    /// `flags`: 0 maps read-only, this maps read-write.
    public static let readWrite: UInt64 = 1 << 0
}

/// GET_SHMEM_CONFIG's reply (struct VhostUserShMemConfig): the sizes of the
/// device's shared memory regions, by shmid.
public struct VhostUserSharedMemoryConfig: WireRecord {
    public var regionCount: UInt32 = 0
    public var padding: UInt32 = 0
    public var sizes: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    /// Entries of `sizes` (VIRTIO_MAX_SHMEM_REGIONS in QEMU).
    public static let maxRegions = 8
    public init() {}
}
