import Testing

/// Checks that a Swift wire record has the C struct's size and, field by
/// field, the same offsets.
func expectSameLayout<S, C>(_: S.Type, _: C.Type, _ fields: [(PartialKeyPath<S>, PartialKeyPath<C>)],
                            sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(MemoryLayout<S>.size == MemoryLayout<C>.size, "size of \(S.self)", sourceLocation: sourceLocation)
    #expect(MemoryLayout<S>.alignment <= MemoryLayout<C>.alignment || MemoryLayout<C>.alignment == 1,
            "alignment of \(S.self)", sourceLocation: sourceLocation)
    for (index, (swiftField, cField)) in fields.enumerated() {
        let swiftOffset = MemoryLayout<S>.offset(of: swiftField)
        let cOffset = MemoryLayout<C>.offset(of: cField)
        #expect(swiftOffset != nil && swiftOffset == cOffset,
                "\(S.self) field #\(index): offset \(String(describing: swiftOffset)) vs C \(String(describing: cOffset))",
                sourceLocation: sourceLocation)
    }
}
