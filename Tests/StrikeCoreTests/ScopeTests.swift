import StrikeCore
import Testing

@Suite struct ScopeTests {
    @Test(arguments: [
        ("workplace:mtz", "workplace:mtz"), ("council:minsk-city", "council:minsk-city"),
        ("workplace:*", "workplace:*"), ("council:*", "council:*"), ("*", "*"),
    ])
    func parses(text: String, shown: String) {
        #expect(Scope(text)?.description == shown)
    }

    @Test(arguments: ["", "workplace", "workplace:", "council:", "workplace:MTZ", "factory:mtz", "**", "*:*",
                      "workplace:mtz:x", "council:-x", " workplace:mtz", "workplace:\(String(repeating: "a", count: 64))"])
    func refuses(text: String) {
        #expect(Scope(text) == nil)
    }

    @Test(arguments: [
        ("workplace:mtz", "workplace:mtz", true), ("workplace:mtz", "workplace:mtz-2", false),
        ("workplace:mtz", "council:mtz", false), ("council:city", "council:city", true),
        ("workplace:*", "workplace:any", true), ("workplace:*", "council:any", false),
        ("council:*", "council:any", true), ("council:*", "workplace:any", false),
        ("*", "workplace:any", true), ("*", "council:any", true),
    ])
    func admits(scope: String, body: String, admitted: Bool) throws {
        let scope = try #require(Scope(scope))
        let body = try #require(BodyRef(body))
        #expect(scope.admits(body) == admitted)
        #expect(Scopes([scope])!.admits(body) == admitted)
    }

    @Test func scopesAreSetsAndEverythingCoversAll() throws {
        let mtz = Slug("mtz")!
        #expect(Scopes([]) == nil)
        #expect(Scopes([.council(mtz), .workplace(mtz), .council(mtz)]) == Scopes.own(mtz))
        #expect(Scopes([.workplace(mtz), .everything]) == Scopes.everything)
        #expect(Scopes.own(mtz).description == "council:mtz workplace:mtz")
        #expect(Scopes.own(mtz).admits(.workplace(mtz)) && Scopes.own(mtz).admits(.council(mtz)))
        #expect(!Scopes.own(mtz).admits(.workplace(Slug("granit")!)))
    }
}
