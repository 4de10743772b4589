/// Typed access to the fields of one JSON object, throwing a `Rejection` whose
/// detail names the field (`data.workplace`) and what was expected.
///
/// A field that is `null` is treated as absent: a required one is missing, an
/// optional one is simply not set.
struct Fields {
    let object: JSONObject
    let path: String
    /// The largest count accepted (`ValidationPolicy.maximumCount`, or any
    /// for messages read back from the store).
    let maximumCount: Int64

    init(_ object: JSONObject, path: String, maximumCount: Int64 = ValidationPolicy.maximumCount) {
        self.object = object
        self.path = path
        self.maximumCount = maximumCount
    }

    private func present(_ key: String) -> JSONValue? {
        guard let value = object[key], !value.isNull else { return nil }
        return value
    }

    private func required(_ key: String) throws(Rejection) -> JSONValue {
        guard let value = present(key) else { throw Rejection(.missingField, "missing field \"\(path)\(key)\"") }
        return value
    }

    private func bad(_ key: String, _ expected: String) -> Rejection {
        Rejection(.badValue, "\"\(path)\(key)\" must be \(expected)")
    }

    // MARK: Strings

    func string(_ key: String) throws(Rejection) -> String {
        let text = try checkedString(key, try required(key))
        if text.isEmpty { throw bad(key, "a non-empty string") }
        return text
    }

    func optionalString(_ key: String) throws(Rejection) -> String? {
        guard let value = present(key) else { return nil }
        return try checkedString(key, value)
    }

    private func checkedString(_ key: String, _ value: JSONValue) throws(Rejection) -> String {
        guard case .string(let text) = value else { throw bad(key, "a string, not \(value.kindName)") }
        var count = 0
        for scalar in text.unicodeScalars {
            count += 1
            // Tab, line feed and carriage return may appear in notes; other
            // control characters (NUL above all) have no place in a report and
            // break the C programs and terminals that show it. That includes
            // DEL and the C1 controls U+0080–U+009F: U+009B is a one-character
            // CSI that some terminals obey like ESC [.
            if scalar.value < 0x20, scalar.value != 0x09, scalar.value != 0x0A, scalar.value != 0x0D {
                throw bad(key, "free of control characters (found U+00\(JSONReader.hex(UInt8(scalar.value))))")
            }
            if (0x7F...0x9F).contains(scalar.value) {
                throw bad(key, "free of control characters (found U+00\(JSONReader.hex(UInt8(scalar.value))))")
            }
        }
        if count > ValidationPolicy.maximumStringLength {
            throw bad(key, "at most \(ValidationPolicy.maximumStringLength) characters (it has \(count))")
        }
        return text
    }

    func slug(_ key: String) throws(Rejection) -> Slug {
        try checkedSlug(key, try required(key))
    }

    private func checkedSlug(_ key: String, _ value: JSONValue) throws(Rejection) -> Slug {
        guard case .string(let text) = value else { throw bad(key, "a slug string, not \(value.kindName)") }
        guard let slug = Slug(text) else {
            throw bad(key, "a slug: 1 to 63 of a-z, 0-9 and '-', not starting with '-' (got \"\(JSONReader.printable(text))\")")
        }
        return slug
    }

    /// The electing body of an election or recall: exactly one of
    /// `workplace` and `from_council` (format v2).
    func electingBody() throws(Rejection) -> ElectingBody {
        switch (present("workplace"), present("from_council")) {
        case (.some, .some):
            throw Rejection(.badValue, "\"\(path)workplace\" and \"\(path)from_council\" name two electing bodies: give exactly one")
        case (.none, .none):
            // bad-value, not missing-field: either member alone would do.
            throw Rejection(.badValue, "one of \"\(path)workplace\" and \"\(path)from_council\" must name the electing body")
        case (.some(let value), .none):
            return .workplace(try checkedSlug("workplace", value))
        case (.none, .some(let value)):
            return .council(try checkedSlug("from_council", value))
        }
    }

    func optionalSlug(_ key: String) throws(Rejection) -> Slug? {
        guard let value = present(key) else { return nil }
        return try checkedSlug(key, value)
    }

    func optionalDate(_ key: String) throws(Rejection) -> CalendarDate? {
        guard let value = present(key) else { return nil }
        guard case .string(let text) = value else { throw bad(key, "a date string YYYY-MM-DD, not \(value.kindName)") }
        guard let date = CalendarDate(text) else {
            throw bad(key, "a date YYYY-MM-DD, e.g. 2020-08-27 (got \"\(JSONReader.printable(text))\")")
        }
        return date
    }

    func optionalSlugs(_ key: String) throws(Rejection) -> [Slug]? {
        guard let value = present(key) else { return nil }
        guard case .array(let elements) = value else { throw bad(key, "an array of slugs, not \(value.kindName)") }
        if elements.count > 100 { throw bad(key, "at most 100 slugs (it has \(elements.count))") }
        var slugs: [Slug] = []
        for (index, element) in elements.enumerated() {
            slugs.append(try checkedSlug("\(key)[\(index)]", element))
        }
        return slugs
    }

    func timestamp(_ key: String) throws(Rejection) -> Timestamp {
        let value = try required(key)
        guard case .string(let text) = value else { throw bad(key, "an RFC 3339 time string, not \(value.kindName)") }
        guard let timestamp = Timestamp(text) else {
            throw bad(key, "an RFC 3339 time with an offset, e.g. 2020-08-24T09:30:00+03:00 (got \"\(JSONReader.printable(text))\")")
        }
        return timestamp
    }

    func enumValue<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) throws(Rejection) -> E where E.RawValue == String {
        try checkedEnum(key, try required(key), type)
    }

    func optionalEnum<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) throws(Rejection) -> E? where E.RawValue == String {
        guard let value = present(key) else { return nil }
        return try checkedEnum(key, value, type)
    }

    private func checkedEnum<E: RawRepresentable & CaseIterable>(_ key: String, _ value: JSONValue, _ type: E.Type) throws(Rejection) -> E where E.RawValue == String {
        let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
        guard case .string(let text) = value, let result = E(rawValue: text) else {
            if case .string(let text) = value {
                throw bad(key, "one of \(allowed) (got \"\(JSONReader.printable(text))\")")
            }
            throw bad(key, "one of \(allowed)")
        }
        return result
    }

    // MARK: Numbers

    func integer(_ key: String, minimum: Int64) throws(Rejection) -> Int64 {
        try checkedInteger(key, try required(key), minimum: minimum)
    }

    func optionalInteger(_ key: String, minimum: Int64) throws(Rejection) -> Int64? {
        guard let value = present(key) else { return nil }
        return try checkedInteger(key, value, minimum: minimum)
    }

    private func checkedInteger(_ key: String, _ value: JSONValue, minimum: Int64) throws(Rejection) -> Int64 {
        guard case .number(let number) = value else { throw bad(key, "an integer, not \(value.kindName)") }
        guard let int = number.int64 else {
            if number.isIntegerLiteral { throw bad(key, "an integer within 64 bits (got \(number.literal))") }
            throw bad(key, "an integer written without fraction or exponent (got \(number.literal))")
        }
        guard int >= minimum else { throw bad(key, "an integer ≥ \(minimum) (got \(int))") }
        return int
    }

    /// A count: an integer from 0 to `ValidationPolicy.maximumCount`.
    func count(_ key: String) throws(Rejection) -> Int64 {
        try checkedCount(key, try required(key))
    }

    func optionalCount(_ key: String) throws(Rejection) -> Int64? {
        guard let value = present(key) else { return nil }
        return try checkedCount(key, value)
    }

    private func checkedCount(_ key: String, _ value: JSONValue) throws(Rejection) -> Int64 {
        let count = try checkedInteger(key, value, minimum: 0)
        guard count <= maximumCount else {
            throw Rejection(.outOfRange, "\"\(path)\(key)\" is \(count); a count is at most \(ValidationPolicy.maximumCount) (two million), so that no total can overflow")
        }
        return count
    }

    func votes(_ key: String) throws(Rejection) -> Votes {
        try checkedVotes(key, try required(key))
    }

    func optionalVotes(_ key: String) throws(Rejection) -> Votes? {
        guard let value = present(key) else { return nil }
        return try checkedVotes(key, value)
    }

    private func checkedVotes(_ key: String, _ value: JSONValue) throws(Rejection) -> Votes {
        guard case .object(let object) = value else {
            throw bad(key, "an object {\"for\", \"against\", \"abstain\"}, not \(value.kindName)")
        }
        let inner = Fields(object, path: path + key + ".", maximumCount: maximumCount)
        let votes = Votes(
            for: try inner.count("for"),
            against: try inner.count("against"),
            abstain: try inner.optionalCount("abstain") ?? 0
        )
        // The counts' limit keeps the quorum's sum far from overflow; checked all the same.
        let (partial, overflow1) = votes.yes.addingReportingOverflow(votes.no)
        let (_, overflow2) = partial.addingReportingOverflow(votes.abstain)
        if overflow1 || overflow2 { throw bad(key, "counts whose sum fits in 64 bits") }
        return votes
    }
}
