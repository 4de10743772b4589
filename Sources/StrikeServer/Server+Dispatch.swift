import Logging
import StrikeCore
import StrikeJournal
import StrikeStore
import VarlinkProtocol

/// What a call asks the connection to do next.
enum Answer: Sendable {
    /// One reply with these parameters.
    case reply(JSONObject)
    /// Stream the change feed (Watch with `more`).
    case watch
}

/// Routes calls to the store and the admin backend, checks access, and maps
/// every internal error to a Varlink error, here and nowhere else.
struct Dispatcher: Sendable {
    let store: Store
    let admin: (any AdminBackend)?
    let info: ServiceInfo
    let logger: Logger

    /// Answers one call. `access` is looked up on first need and kept for
    /// the connection.
    func answer(_ call: VarlinkCall, peer: PeerCredentials, access: () async -> Access) async throws(VarlinkError) -> Answer {
        switch call.interface {
        case Interface.service?:
            return .reply(try service(ServiceCall(name: call.name, parameters: call.parameters)))
        case Interface.query?:
            guard await access().query else { throw .permissionDenied }
            let query = try QueryCall(name: call.name, parameters: call.parameters)
            if case .watch = query {
                guard call.more || call.oneway else { throw .expectedMore }
                return .watch
            }
            let planned = try plan(query)
            let result: Result<JSONObject, VarlinkError>
            do {
                result = try await store.read(planned)
            } catch {
                throw failure(error, of: query)
            }
            return .reply(try result.get())
        case Interface.admin?:
            guard await access().admin else { throw .permissionDenied }
            return .reply(try await self.admin(AdminCall(name: call.name, parameters: call.parameters), call: call, peer: peer))
        case let interface?:
            throw .interfaceNotFound(interface)
        case nil:
            throw .methodNotFound(call.method)
        }
    }

    /// Answers `call` on the calling thread when its work is bounded: any
    /// call of org.varlink.service, Summary (the tally rows) and GetWorkplace
    /// (a few index look-ups, nested lists capped), and any call the
    /// interface refuses before reading. Returns nil for what must take the
    /// async path: Watch (it streams), Admin (it writes and may wait for the
    /// spool), a Query before `access` is known (the first look-up asks NSS),
    /// and the list calls. Those return one page, but the work behind a page
    /// is not bounded: on a store of 100,000 workplaces ListCouncils took
    /// 1.7 s, Gaps 0.6 s, Unresolved 45 ms, ListDemands 30 ms
    /// (docs/performance.md), which must not stall an event loop's other
    /// connections. The reply is exactly what `answer` would give.
    ///
    /// Blocks for the store's read (`Store.readNow`): call it only where that
    /// may wait, the connection's event loop, never Swift's cooperative pool.
    func answerNow(_ call: VarlinkCall, access: Access?) -> Result<JSONObject, VarlinkError>? {
        switch call.interface {
        case Interface.service?:
            return Result { () throws(VarlinkError) in try service(ServiceCall(name: call.name, parameters: call.parameters)) }
        case Interface.query?:
            guard let access else { return nil }
            guard access.query else { return .failure(.permissionDenied) }
            let query: QueryCall
            do {
                query = try QueryCall(name: call.name, parameters: call.parameters)
            } catch {
                return .failure(error)
            }
            guard query.isBounded else { return nil }
            do throws(VarlinkError) {
                let planned = try plan(query)
                do {
                    return try store.readNow(planned)
                } catch {
                    throw failure(error, of: query)
                }
            } catch {
                return .failure(error)
            }
        case Interface.admin?:
            return nil
        case let interface?:
            return .failure(.interfaceNotFound(interface))
        case nil:
            return .failure(.methodNotFound(call.method))
        }
    }

    /// Logs a refused call once, at the top, whichever path answered it.
    func noteRefusal(_ error: VarlinkError, of call: VarlinkCall, peer: PeerCredentials) {
        guard error.name == VarlinkError.permissionDenied.name else { return }
        logger.notice("a call was refused: permission denied",
                      metadata: JournalEvent.clientRejected.metadata([
                          "peer_uid": "\(peer.uid)", "method": "\(call.method)", "reason": "permission-denied",
                      ]))
    }

    private func service(_ call: ServiceCall) throws(VarlinkError) -> JSONObject {
        switch call {
        case .getInfo:
            var b = ObjectBuilder()
            b.set("vendor", info.vendor)
            b.set("product", info.product)
            b.set("version", info.version)
            b.set("url", info.url)
            b.set("interfaces", .array(InterfaceTexts.all.map { .string($0.name) }))
            return b.object
        case .getInterfaceDescription(let name):
            guard let text = InterfaceTexts.all.first(where: { $0.name == name })?.text else {
                throw .interfaceNotFound(name)
            }
            var b = ObjectBuilder()
            b.set("description", text)
            return b.object
        }
    }

    /// The store read that answers `call` (not Watch), mapped to its reply
    /// or error; errors of the read itself come out of `Store.read`/`readNow`
    /// and are mapped by `failure(_:of:)`.
    private func plan(_ call: QueryCall) throws(VarlinkError) -> StoreQuery<Result<JSONObject, VarlinkError>> {
        do throws(QueryError) {
            switch call {
            case .summary:
                return Store.summaryQuery.map { .success(Replies.summary($0)) }
            case .stateDigest:
                return Store.stateDigestQuery.map { .success(Replies.stateDigest($0)) }
            case .peers:
                return Store.peersQuery.map { .success(Replies.peers($0)) }
            case .listWorkplaces(let region, let town, let strike, let page):
                let filter = WorkplaceQuery(region: region, town: town, strike: strike.flatMap(StrikeFilter.init))
                return try Store.listWorkplaces(filter, page: request(page)).map { .success(Replies.page("workplaces", $0, Replies.workplace)) }
            case .getWorkplace(let id):
                return try Store.getWorkplace(id).map { detail in
                    guard let detail else { return .failure(.workplaceNotFound(id)) }
                    return .success(Replies.workplaceDetail(detail))
                }
            case .listDelegates(let workplace, let council, let status, let safety, let mandate, let page):
                let filter = DelegateQuery(workplace: workplace, council: council, status: status, safety: safety, mandate: mandate)
                return try Store.listDelegates(filter, page: request(page)).map { .success(Replies.page("delegates", $0, Replies.delegate)) }
            case .getDelegate(let id):
                return Store.getDelegate(id).map { detail in
                    guard let detail else { return .failure(.delegateNotFound(id)) }
                    return .success(Replies.delegateDetail(detail))
                }
            case .getCouncil(let id):
                return Store.getCouncil(id).map { detail in
                    guard let detail else { return .failure(.councilNotFound(id)) }
                    return .success(Replies.councilDetail(detail))
                }
            case .irregular(let limit):
                return Store.irregular(limit: limit ?? PageRequest.maximumLimit).map { .success(Replies.irregular($0.items, truncated: $0.truncated)) }
            case .listCouncils(let page):
                return try Store.listCouncils(page: request(page)).map { .success(Replies.page("councils", $0, Replies.council)) }
            case .listDemands(let category, let workplace, let page):
                return try Store.listDemands(category: category, workplace: workplace, page: request(page))
                    .map { .success(Replies.page("demands", $0, Replies.demand)) }
            case .listDemandWorkplaces(let demand, let page):
                return try Store.listDemandWorkplaces(demand: demand, page: request(page)).map { found in
                    guard let found else { return .failure(.demandNotFound(demand)) }
                    return .success(Replies.page("workplaces", found, Replies.demandWorkplace))
                }
            case .listActions(let workplace, let page):
                return try Store.listActions(workplace: workplace, page: request(page)).map { .success(Replies.page("actions", $0, Replies.action)) }
            case .listActionWorkplaces(let action, let page):
                return try Store.listActionWorkplaces(action: action, page: request(page)).map { found in
                    guard let found else { return .failure(.actionNotFound(action)) }
                    return .success(Replies.page("workplaces", found, Replies.actionWorkplace))
                }
            case .listRejected(let page):
                return try Store.listRejected(page: request(page)).map { .success(Replies.page("rejected", $0, Replies.rejected)) }
            case .gaps(let origin, let page):
                return try Store.gaps(origin: origin, page: request(page)).map { .success(Replies.page("gaps", $0, Replies.gap)) }
            case .unresolved(let kind, let page):
                return try Store.unresolved(kind: kind, page: request(page)).map { .success(Replies.page("unresolved", $0, Replies.unresolved)) }
            case .history(let subject, let from, let to, let step, let page):
                let parsed = subject.flatMap(HistorySubject.init(text:)) ?? .overall
                return try Store.history(
                    subject: parsed, from: from.flatMap(Timestamp.init)?.epochSeconds, to: to.flatMap(Timestamp.init)?.epochSeconds,
                    step: step, page: request(page)
                ).map { found in
                    guard let found else {
                        if case .workplace(let id) = parsed { return .failure(.workplaceNotFound(id.rawValue)) }
                        return .failure(.storeFailed("no history"))
                    }
                    return .success(Replies.history(found, overall: parsed == .overall))
                }
            case .historyByRegion(let regions, let from, let to, let step, let page):
                return try Store.histories(
                    subjects: regions.map { .region($0) }, from: from.flatMap(Timestamp.init)?.epochSeconds,
                    to: to.flatMap(Timestamp.init)?.epochSeconds, step: step, page: request(page)
                ).map { found in .success(Replies.historyByRegion(regions, found ?? [])) }
            case .watch:
                preconditionFailure("Watch is streamed by the connection")
            }
        } catch {
            throw failure(error, of: call)
        }
    }

    /// The one mapping of the store's query errors to Varlink errors.
    private func failure(_ error: QueryError, of call: QueryCall) -> VarlinkError {
        switch error {
        case .invalidCursor:
            return .invalidParameter("cursor")
        case .store(let error):
            logger.error("a query failed in the database", metadata: ["method": "\(call.name)", "error": "\(error.detail)"])
            return .storeFailed(error.detail)
        }
    }

    private func request(_ page: PageParameters) -> PageRequest {
        PageRequest(limit: page.limit, cursor: page.cursor)
    }

    private func admin(_ adminCall: AdminCall, call: VarlinkCall, peer: PeerCredentials) async throws(VarlinkError) -> JSONObject {
        guard let admin else { throw .methodNotImplemented(call.method) }
        do throws(AdminFailure) {
            switch adminCall {
            case .submit(let messages):
                let results = try await admin.submit(messages, from: peer)
                logger.info("messages submitted over the socket", metadata: [
                    "peer_uid": "\(peer.uid)", "messages": "\(messages.count)",
                    "applied": "\(results.count { $0.outcome == .applied })",
                    "rejected": "\(results.count { $0.outcome == .rejected })",
                ])
                return Replies.submitResults(results)
            case .requeue(let name):
                let requeued = try await admin.requeue(name)
                logger.notice("a quarantined file was requeued", metadata: ["peer_uid": "\(peer.uid)", "file": "\(name)"])
                var b = ObjectBuilder()
                b.set("name", requeued)
                return b.object
            case .requeueRejected(let hash):
                let requeued = try await admin.requeueRejected(hash: hash)
                logger.notice("a rejected version's quarantined copies were requeued", metadata: [
                    "peer_uid": "\(peer.uid)", "hash": "\(AdminCall.hashText(hash))", "files": "\(requeued.count)",
                ])
                var b = ObjectBuilder()
                b.set("names", .array(requeued.map { .string($0) }))
                return b.object
            case .rescan:
                try await admin.rescan()
                return JSONObject()
            case .forget(let hash):
                let result = try await admin.forget(hash: hash)
                logger.notice("a rejected version was forgotten", metadata: [
                    "peer_uid": "\(peer.uid)", "hash": "\(AdminCall.hashText(hash))",
                    "restored": "\(result.restored.map { "\($0.origin) #\($0.seq)" } ?? "none")",
                ])
                var b = ObjectBuilder()
                if let restored = result.restored {
                    b.set("restored_origin", restored.origin.rawValue)
                    b.set("restored_seq", restored.seq)
                }
                return b.object
            case .showRejected(let hash):
                let text = try await admin.show(hash: hash)
                var b = ObjectBuilder()
                if case .message(let message) = text { b.set("message", message) }
                return b.object
            }
        } catch {
            switch error {
            case .quarantinedFileNotFound(let name, let directory):
                throw .quarantinedFileNotFound(name, directory: directory)
            case .rejectedVersionNotFound(let hash):
                throw .rejectedVersionNotFound(hash)
            case .notImplemented:
                throw .methodNotImplemented(call.method)
            case .failed(let detail):
                logger.error("an admin call failed", metadata: ["method": "\(call.method)", "peer_uid": "\(peer.uid)", "error": "\(detail)"])
                throw .failed(detail)
            }
        }
    }
}

extension QueryCall {
    /// The work is a fixed number of index look-ups, whatever the store's
    /// size: safe to do on an event loop (see `Dispatcher.answerNow`).
    var isBounded: Bool {
        switch self {
        case .summary, .getWorkplace, .getDelegate, .getCouncil: true
        case .stateDigest, .peers, .irregular, .listWorkplaces, .listDelegates, .listCouncils, .listDemands, .listDemandWorkplaces, .listActions,
             .listActionWorkplaces, .listRejected, .gaps, .unresolved, .history, .historyByRegion, .watch: false
        }
    }
}
