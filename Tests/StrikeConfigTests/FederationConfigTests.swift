import StrikeConfig
import StrikeCore
import Testing

/// node, peers, inboxes, outbox_directory, gap_report_interval.
@Suite struct FederationConfigTests {
    @Test func theIssueExampleReads() throws {
        let config = try DaemonConfig.parse("""
            node: minsk
            peers:
              - name: gomel
                nncp: gomel
                send: ["*"]
              - name: brest-courier
                outbox: /var/lib/strikecd/outbox/brest
                send: [mtz, minsk-city]
            inboxes:
              - /srv/sync/from-gomel
              - path: sync/from-brest
                from: brest-courier
            gap_report_interval: 2min
            """, file: "/etc/strikecd/strikecd.yaml")
        #expect(config.node == "minsk")
        #expect(config.peers == [
            PeerConfig(name: "gomel", transport: .nncp(node: "gomel"), send: [.all]),
            PeerConfig(name: "brest-courier", transport: .outbox(directory: "/var/lib/strikecd/outbox/brest"), send: [.origin("mtz"), .origin("minsk-city")]),
        ])
        #expect(config.inboxes == [InboxConfig(path: "/srv/sync/from-gomel"), InboxConfig(path: "/etc/strikecd/sync/from-brest", from: "brest-courier")])
        #expect(config.gapReportInterval == 120)
        #expect(config.outboxDirectory(for: config.peers[0]) == "/var/lib/strikecd/outbox/gomel")
        #expect(config.peer(nncpNode: "gomel")?.name == "gomel")
        #expect(config.peer(nncpNode: "brest-courier") == nil)
        #expect(config.peers[1].send.admit(origin: "mtz") && !config.peers[1].send.admit(origin: "azot"))
    }

    /// NNCP_SENDER is the sender's node id; `nncp_id` maps it to a peer
    /// whose `nncp:` is an alias name.
    @Test func nncpIDs() throws {
        let id = "7VGMXAQJFDXJD4XS5RU6HLMNWM2LTSZ5KLMTQ3YIPCPPM3IAGNUQ"
        let config = try DaemonConfig.parse("node: minsk\npeers:\n  - name: gomel\n    nncp: gomel\n    nncp_id: \(id)\n  - name: brest\n    nncp: brest\n", file: "x.yaml")
        #expect(config.peer(nncpNode: id)?.name == "gomel")
        #expect(config.peer(nncpNode: "gomel") == nil)
        #expect(config.peer(nncpNode: "brest")?.name == "brest")
        let error = #expect(throws: ConfigError.self) {
            try DaemonConfig.parse("node: minsk\npeers:\n  - name: s\n    outbox: /o\n    nncp_id: \(id)\n", file: "x.yaml")
        }
        #expect(error?.description.contains("only an `nncp:` peer has an NNCP node id") == true)
        let bad = #expect(throws: ConfigError.self) {
            try DaemonConfig.parse("node: minsk\npeers:\n  - name: g\n    nncp: g\n    nncp_id: gomel\n", file: "x.yaml")
        }
        #expect(bad?.description.contains("must be an NNCP node id") == true)
    }

    @Test func scopeFilters() throws {
        let config = try DaemonConfig.parse("node: minsk\npeers:\n  - name: gomel\n    nncp: gomel\n    send: [\"workplace:mtz\", \"council:*\", azot]\n", file: "x.yaml")
        let send = config.peers[0].send
        #expect(send == [.scope(.workplace(Slug("mtz")!)), .scope(.everyCouncil), .origin("azot")])
        #expect(send.admit(origin: "x", body: .workplace(Slug("mtz")!)))
        #expect(!send.admit(origin: "x", body: .workplace(Slug("azot")!)))
        #expect(send.admit(origin: "x", body: .council(Slug("city")!)))
        #expect(!send.admit(origin: "x", body: nil), "a safety report is about no body")
        #expect(send.admit(origin: "azot", body: nil))
    }

    @Test func sendDefaultsToEverything() throws {
        let config = try DaemonConfig.parse("node: minsk\npeers:\n  - name: gomel\n    nncp: gomel\n", file: "x.yaml")
        #expect(config.peers[0].send == [.all])
        let none = try DaemonConfig.parse("node: minsk\npeers:\n  - name: gomel\n    nncp: gomel\n    send: []\n", file: "x.yaml")
        #expect(none.peers[0].send.isEmpty && !none.peers[0].send.admit(origin: "mtz"))
    }

    /// Every mistake names itself: the setting, the peer, the key and what is wrong.
    @Test(arguments: [
        ("node: Minsk", "node: must be a slug"),
        ("peers:\n  - name: gomel\n    nncp: gomel", "node: peers need this node's name"),
        ("node: minsk\npeers: gomel", "peers: must be a list of peers"),
        ("node: minsk\npeers:\n  - nncp: gomel", "peers[1]: has no name"),
        ("node: minsk\npeers:\n  - name: gomel\n    ncp: gomel", "peers[1].ncp: unknown key (did you mean \"nncp\"?)"),
        ("node: minsk\npeers:\n  - name: gomel", "peers[1]: \"gomel\" needs `nncp: NODE` or `outbox: DIR`"),
        ("node: minsk\npeers:\n  - name: gomel\n    nncp: gomel\n    outbox: /x", "peers[1]: \"gomel\" has both `nncp` and `outbox`"),
        ("node: minsk\npeers:\n  - name: gomel\n    nncp: gomel\n  - name: gomel\n    nncp: g2", "peers[2].name: \"gomel\" names two peers"),
        ("node: minsk\npeers:\n  - name: a\n    nncp: gomel\n  - name: b\n    nncp: gomel", "peers[2].nncp: NNCP node \"gomel\" is given to two peers"),
        ("node: minsk\npeers:\n  - name: gomel\n    nncp: gomel x", "peers[1].nncp: must be an NNCP node name"),
        ("node: minsk\npeers:\n  - name: gomel\n    nncp: gomel\n    send: \"*\"", "peers[1].send: must be a list"),
        ("node: minsk\npeers:\n  - name: gomel\n    nncp: gomel\n    send: [workplace:Mtz]", "peers[1].send: \"workplace:Mtz\" is neither"),
        ("node: minsk\npeers:\n  - name: gomel\n    nncp: gomel\n    send: [\"plant:mtz\"]", "peers[1].send: \"plant:mtz\" is neither"),
        ("node: minsk\npeers:\n  - name: gomel\n    nncp: gomel\n    send: [Mtz]", "peers[1].send: \"Mtz\" is neither"),
        ("node: minsk\npeers:\n  - name: minsk\n    nncp: gomel", "peers: peer \"minsk\" has this node's own name"),
        ("node: minsk\npeers:\n  - name: a\n    outbox: /o\n  - name: b\n    outbox: /o/", "peers: peers \"a\" and \"b\" share the outbox /o"),
        ("node: minsk\nspool: /s\npeers:\n  - name: a\n    outbox: /s/incoming", "the outbox of \"a\" (/s/incoming) is inside the spool"),
        ("spool: /s\ninboxes: [/s/incoming]", "inboxes: /s/incoming is inside the spool"),
        ("inboxes: [/i, /i]", "inboxes[2]: /i is listed twice"),
        ("inboxes:\n  - path: /i\n    from: gomel", "inboxes: /i: from \"gomel\" is not one of the peers"),
        ("inboxes:\n  - pth: /i", "inboxes[1].pth: unknown key (did you mean \"path\"?)"),
        ("node: minsk\npeers:\n  - name: a\n    outbox: /o\ninboxes: [/o]", "inboxes: /o is the outbox of \"a\""),
        ("gap_report_interval: 500ms", "gap_report_interval: must be 0 (only with batches) or at least 1s"),
    ] as [(String, String)])
    func mistakesNameThemselves(text: String, expected: String) throws {
        let error = #expect(throws: ConfigError.self) { try DaemonConfig.parse(text, file: "s.yaml") }
        #expect(error?.description.contains(expected) == true, "\(error?.description ?? "no error")")
    }
}
