import StrikeCore

/// An error reply: a qualified name and its parameters (always an object).
///
/// Handlers throw these; the server turns them into replies in one place.
public struct VarlinkError: Error, Sendable, CustomStringConvertible {
    public let name: String
    public let parameters: JSONObject

    public init(_ name: String, _ parameters: JSONObject = JSONObject()) {
        self.name = name
        self.parameters = parameters
    }

    public var description: String {
        parameters.members.isEmpty ? name : "\(name) \(JSONWriter.string(.object(parameters), style: .compact))"
    }

    /// A string parameter of the error, e.g. `id` of WorkplaceNotFound.
    public func string(_ key: String) -> String? {
        if case .string(let text)? = parameters[key] { return text }
        return nil
    }

    // MARK: org.varlink.service

    public static let service = "org.varlink.service"

    public static func interfaceNotFound(_ interface: String) -> VarlinkError {
        VarlinkError(service + ".InterfaceNotFound", JSONObject([("interface", .string(interface))]))
    }

    /// `method` is the full method string of the call, as sd-varlink sends it.
    public static func methodNotFound(_ method: String) -> VarlinkError {
        VarlinkError(service + ".MethodNotFound", JSONObject([("method", .string(method))]))
    }

    public static func methodNotImplemented(_ method: String) -> VarlinkError {
        VarlinkError(service + ".MethodNotImplemented", JSONObject([("method", .string(method))]))
    }

    public static func invalidParameter(_ parameter: String) -> VarlinkError {
        VarlinkError(service + ".InvalidParameter", JSONObject([("parameter", .string(parameter))]))
    }

    public static let permissionDenied = VarlinkError(service + ".PermissionDenied")
    public static let expectedMore = VarlinkError(service + ".ExpectedMore")

    // MARK: org.strikecd.Query

    public static func workplaceNotFound(_ id: String) -> VarlinkError {
        VarlinkError(Interface.query + ".WorkplaceNotFound", JSONObject([("id", .string(id))]))
    }

    public static func delegateNotFound(_ id: String) -> VarlinkError {
        VarlinkError(Interface.query + ".DelegateNotFound", JSONObject([("id", .string(id))]))
    }

    public static func councilNotFound(_ id: String) -> VarlinkError {
        VarlinkError(Interface.query + ".CouncilNotFound", JSONObject([("id", .string(id))]))
    }

    public static func demandNotFound(_ id: String) -> VarlinkError {
        VarlinkError(Interface.query + ".DemandNotFound", JSONObject([("id", .string(id))]))
    }

    public static func actionNotFound(_ id: String) -> VarlinkError {
        VarlinkError(Interface.query + ".ActionNotFound", JSONObject([("id", .string(id))]))
    }

    public static let watchOverflow = VarlinkError(Interface.query + ".WatchOverflow")

    public static func storeFailed(_ detail: String) -> VarlinkError {
        VarlinkError(Interface.query + ".StoreFailed", JSONObject([("detail", .string(detail))]))
    }

    // MARK: org.strikecd.Admin

    public static func tooManyMessages(_ maximum: Int) -> VarlinkError {
        VarlinkError(Interface.admin + ".TooManyMessages", JSONObject([("maximum", .number(JSONNumber(Int64(maximum))))]))
    }

    public static func quarantinedFileNotFound(_ name: String, directory: String? = nil) -> VarlinkError {
        VarlinkError(Interface.admin + ".QuarantinedFileNotFound",
                     JSONObject([("name", .string(name))] + (directory.map { [("directory", JSONValue.string($0))] } ?? [])))
    }

    public static func rejectedVersionNotFound(_ hash: String) -> VarlinkError {
        VarlinkError(Interface.admin + ".RejectedVersionNotFound", JSONObject([("hash", .string(hash))]))
    }

    public static func failed(_ detail: String) -> VarlinkError {
        VarlinkError(Interface.admin + ".Failed", JSONObject([("detail", .string(detail))]))
    }
}

/// Interface names.
public enum Interface {
    public static let service = "org.varlink.service"
    public static let query = "org.strikecd.Query"
    public static let admin = "org.strikecd.Admin"
}
