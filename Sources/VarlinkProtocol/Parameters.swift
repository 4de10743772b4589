// SECURITY: parameters come from local clients. Each method's parameters are
// read here into typed values: every member must be declared by the method,
// have the declared type, and satisfy the method's rules (slugs, ranges).
// Anything else is answered with InvalidParameter naming the member, as
// sd-varlink does. Nothing downstream re-checks.
import StrikeCore

/// Reads one call's parameters against the method's declaration.
public struct Parameters {
    private let object: JSONObject

    /// Fails with InvalidParameter on the first member not in `allowed`.
    public init(_ object: JSONObject, allowed: Set<String>) throws(VarlinkError) {
        for key in object.keys where !allowed.contains(key) {
            throw .invalidParameter(key)
        }
        self.object = object
    }

    /// The value, with null read as absent (Varlink: `?T` null and absent are equal).
    private func value(_ key: String) -> JSONValue? {
        guard let value = object[key] else { return nil }
        if case .null = value { return nil }
        return value
    }

    public func optionalString(_ key: String, maximumLength: Int = 500) throws(VarlinkError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value, text.unicodeScalars.count <= maximumLength else { throw .invalidParameter(key) }
        return text
    }

    public func string(_ key: String, maximumLength: Int = 500) throws(VarlinkError) -> String {
        guard let text = try optionalString(key, maximumLength: maximumLength) else { throw .invalidParameter(key) }
        return text
    }

    public func optionalSlug(_ key: String) throws(VarlinkError) -> String? {
        guard let text = try optionalString(key) else { return nil }
        guard Slug.isValid(text) else { throw .invalidParameter(key) }
        return text
    }

    public func slug(_ key: String) throws(VarlinkError) -> String {
        guard let text = try optionalSlug(key) else { throw .invalidParameter(key) }
        return text
    }

    public func optionalInt(_ key: String, minimum: Int64 = .min, maximum: Int64 = .max) throws(VarlinkError) -> Int64? {
        guard let value = value(key) else { return nil }
        guard case .number(let number) = value, let int = number.int64, int >= minimum, int <= maximum else {
            throw .invalidParameter(key)
        }
        return int
    }

    public func optionalEnum<E: RawRepresentable>(_ key: String, _ type: E.Type) throws(VarlinkError) -> E? where E.RawValue == String {
        guard let text = try optionalString(key) else { return nil }
        guard let value = E(rawValue: text) else { throw .invalidParameter(key) }
        return value
    }

    /// A `[]string` member of 1 to `maximumCount` strings, each 1 to `maximumLength` long.
    public func strings(_ key: String, maximumCount: Int, maximumLength: Int = 500) throws(VarlinkError) -> [String] {
        guard let value = value(key), case .array(let elements) = value, (1...maximumCount).contains(elements.count) else {
            throw .invalidParameter(key)
        }
        var strings: [String] = []
        for element in elements {
            guard case .string(let text) = element, !text.isEmpty, text.unicodeScalars.count <= maximumLength else {
                throw .invalidParameter(key)
            }
            strings.append(text)
        }
        return strings
    }

    /// A `[]object` member: every element must be an object.
    public func objects(_ key: String) throws(VarlinkError) -> [JSONValue] {
        guard let value = value(key), case .array(let elements) = value else { throw .invalidParameter(key) }
        for element in elements {
            guard case .object = element else { throw .invalidParameter(key) }
        }
        return elements
    }
}

/// Builds parameter objects for calls, leaving out what is nil.
public struct ParameterBuilder {
    public private(set) var object = JSONObject()

    public init() {}

    public mutating func add(_ key: String, _ value: String?) {
        if let value { object.members.append((key, .string(value))) }
    }

    public mutating func add(_ key: String, _ value: Int64?) {
        if let value { object.members.append((key, .number(JSONNumber(value)))) }
    }

    public mutating func add(_ key: String, _ value: JSONValue) {
        object.members.append((key, value))
    }
}
