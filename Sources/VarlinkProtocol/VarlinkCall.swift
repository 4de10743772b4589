// SECURITY: call objects come from any local process that can open the
// socket. They are parsed here, strictly, before anything else looks at them:
// exactly the members of the Varlink call object (method, parameters, oneway,
// more), with the types the protocol gives them, at most one of oneway and
// more set, no duplicate keys (StrikeCore's JSONReader refuses them). A call
// that breaks these rules is a protocol violation and the connection is
// closed without a reply, as sd-varlink does; errors in a well-formed call's
// parameters are answered with InvalidParameter instead.
import StrikeCore

/// The connection must be closed: the peer does not speak Varlink as required.
public struct VarlinkViolation: Error, Sendable, Equatable, CustomStringConvertible {
    public let detail: String

    public init(_ detail: String) { self.detail = detail }

    public var description: String { detail }
}

/// One method call, as received by a server or sent by a client.
public struct VarlinkCall: Sendable {
    /// The fully qualified method, e.g. `org.strikecd.Query.Summary`.
    public var method: String
    /// The parameters; an absent or null `parameters` reads as empty.
    public var parameters: JSONObject
    /// The caller wants no reply at all.
    public var oneway: Bool
    /// The caller accepts several replies (`continues`).
    public var more: Bool

    public init(method: String, parameters: JSONObject = JSONObject(), oneway: Bool = false, more: Bool = false) {
        self.method = method
        self.parameters = parameters
        self.oneway = oneway
        self.more = more
    }

    /// The interface part of `method` (before the last dot), or nil when the
    /// method is not qualified.
    public var interface: String? {
        guard let dot = method.utf8.lastIndex(of: UInt8(ascii: ".")) else { return nil }
        return String(method[..<dot])
    }

    /// The method's own name (after the last dot).
    public var name: String {
        guard let dot = method.utf8.lastIndex(of: UInt8(ascii: ".")) else { return method }
        return String(method[method.utf8.index(after: dot)...])
    }

    /// Parses one frame (without its NUL) strictly; see the file's header.
    public static func parse(_ bytes: some Collection<UInt8>) throws(VarlinkViolation) -> VarlinkCall {
        let value: JSONValue
        do {
            value = try JSONReader.read(bytes)
        } catch {
            throw VarlinkViolation("the call is not valid JSON: \(error.detail)")
        }
        guard case .object(let object) = value else {
            throw VarlinkViolation("the call is \(value.kindName), not a JSON object")
        }
        var method: String?
        var parameters = JSONObject()
        var oneway = false
        var more = false
        for member in object.members {
            switch member.key {
            case "method":
                guard case .string(let text) = member.value else { throw VarlinkViolation("\"method\" is \(member.value.kindName), not a string") }
                method = text
            case "parameters":
                switch member.value {
                case .object(let given): parameters = given
                case .null: break
                default: throw VarlinkViolation("\"parameters\" is \(member.value.kindName), not an object")
                }
            case "oneway", "more":
                guard case .bool(let flag) = member.value else {
                    throw VarlinkViolation("\"\(member.key)\" is \(member.value.kindName), not a boolean")
                }
                if member.key == "oneway" { oneway = flag } else { more = flag }
            default:
                // Includes "upgrade", which strikecd does not offer, and
                // vendor extensions: sd-varlink closes on both too.
                throw VarlinkViolation("unknown member \(shown(member.key)) in the call")
            }
        }
        guard let method else { throw VarlinkViolation("the call has no \"method\"") }
        if oneway && more { throw VarlinkViolation("\"oneway\" and \"more\" are both set") }
        return VarlinkCall(method: method, parameters: parameters, oneway: oneway, more: more)
    }

    /// The call as compact JSON, without the terminating NUL. Parameters are
    /// omitted when empty, flags when false.
    public func bytes() -> [UInt8] {
        var members: [(key: String, value: JSONValue)] = [("method", .string(method))]
        if !parameters.members.isEmpty { members.append(("parameters", .object(parameters))) }
        if oneway { members.append(("oneway", true)) }
        if more { members.append(("more", true)) }
        return JSONWriter.bytes(.object(JSONObject(members)), style: .compact)
    }
}

/// One reply: parameters, or an error with parameters; `continues` when more follow.
public struct VarlinkReply: Sendable {
    public var parameters: JSONObject
    /// More replies to the same call follow (only for calls with `more`).
    public var continues: Bool
    /// The qualified error name, for an error reply.
    public var error: String?

    public init(parameters: JSONObject = JSONObject(), continues: Bool = false, error: String? = nil) {
        self.parameters = parameters
        self.continues = continues
        self.error = error
    }

    public init(_ error: VarlinkError) {
        self.init(parameters: error.parameters, continues: false, error: error.name)
    }

    /// The reply as compact JSON, without the NUL: `{"parameters":{…}}`, with
    /// `"continues":true` after it while more follow, or
    /// `{"error":"…","parameters":{…}}`. Error parameters are always an object,
    /// never null: the reference Python client crashes on null.
    public func bytes() -> [UInt8] {
        var members: [(key: String, value: JSONValue)] = []
        if let error { members.append(("error", .string(error))) }
        members.append(("parameters", .object(parameters)))
        if continues && error == nil { members.append(("continues", true)) }
        return JSONWriter.bytes(.object(JSONObject(members)), style: .compact)
    }

    /// Parses a reply strictly, as sd-varlink does on the client side: only
    /// `error`, `parameters` and `continues`, and never `continues` on an error.
    public static func parse(_ bytes: some Collection<UInt8>) throws(VarlinkViolation) -> VarlinkReply {
        let value: JSONValue
        do {
            value = try JSONReader.read(bytes)
        } catch {
            throw VarlinkViolation("the reply is not valid JSON: \(error.detail)")
        }
        guard case .object(let object) = value else { throw VarlinkViolation("the reply is \(value.kindName), not an object") }
        var reply = VarlinkReply()
        for member in object.members {
            switch (member.key, member.value) {
            case ("parameters", .object(let parameters)): reply.parameters = parameters
            case ("parameters", .null): break
            case ("continues", .bool(let flag)): reply.continues = flag
            case ("error", .string(let name)): reply.error = name
            default: throw VarlinkViolation("unexpected member \(shown(member.key)) in the reply")
            }
        }
        if reply.error != nil && reply.continues { throw VarlinkViolation("an error reply with \"continues\"") }
        return reply
    }
}

/// A key from the peer, quoted and escaped for a log line, cut at 64 characters.
func shown(_ key: String) -> String {
    let cut = key.unicodeScalars.count > 64 ? String(String.UnicodeScalarView(key.unicodeScalars.prefix(64))) + "…" : key
    return JSONWriter.string(.string(cut), style: .compact)
}
