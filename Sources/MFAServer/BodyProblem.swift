/// What is wrong with a JSON body, in the API's words: the field by its JSON name and the JSON type
/// it needs ("the field code must be a string"), never a Swift type or decoder internals.
enum BodyProblem {
    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "the request body lacks the field \(path(context.codingPath + [key]))"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            guard !context.codingPath.isEmpty else { return "the request body must be a JSON object" }
            return "the field \(path(context.codingPath)) must be \(jsonType(type))"
        case .dataCorrupted(let context):
            guard !context.codingPath.isEmpty else { return "the request body is not JSON" }
            return "the field \(path(context.codingPath)) has a value that cannot be read"
        @unknown default:
            return "the request body is not the expected JSON"
        }
    }

    /// `code`, `scopes[1]`, `key.name`.
    static func path(_ keys: [any CodingKey]) -> String {
        var text = ""
        for key in keys {
            if let index = key.intValue { text += "[\(index)]" } else { text += text.isEmpty ? key.stringValue : "." + key.stringValue }
        }
        return text
    }

    static func jsonType(_ type: Any.Type) -> String {
        switch type {
        case is String.Type, is Substring.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt64.Type, is UInt32.Type, is UInt.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is [Any].Type, is any Collection.Type: "an array"
        default: "an object"
        }
    }
}
