import Logging
import StrikeCore
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
            return .reply(try await self.query(query))
        case Interface.admin?:
            guard await access().admin else { throw .permissionDenied }
            return .reply(try await self.admin(AdminCall(name: call.name, parameters: call.parameters), call: call, peer: peer))
        case let interface?:
            throw .interfaceNotFound(interface)
        case nil:
            throw .methodNotFound(call.method)
        }
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

    private func query(_ call: QueryCall) async throws(VarlinkError) -> JSONObject {
        do {
            switch call {
            case .summary:
                return Replies.summary(try await store.summaryAsync())
            case .listWorkplaces(let region, let town, let strike, let page):
                let filter = WorkplaceQuery(region: region, town: town, strike: strike.flatMap(StrikeFilter.init))
                return Replies.page("workplaces", try await store.listWorkplaces(filter, page: request(page)), Replies.workplace)
            case .getWorkplace(let id):
                guard let detail = try await store.getWorkplace(id) else { throw VarlinkError.workplaceNotFound(id) }
                return Replies.workplaceDetail(detail)
            case .listDelegates(let workplace, let council, let status, let page):
                let filter = DelegateQuery(workplace: workplace, council: council, status: status)
                return Replies.page("delegates", try await store.listDelegates(filter, page: request(page)), Replies.delegate)
            case .listCouncils(let page):
                return Replies.page("councils", try await store.listCouncils(page: request(page)), Replies.council)
            case .listDemands(let category, let workplace, let page):
                return Replies.page(
                    "demands", try await store.listDemands(category: category, workplace: workplace, page: request(page)), Replies.demand)
            case .listDemandWorkplaces(let demand, let page):
                guard let found = try await store.listDemandWorkplaces(demand: demand, page: request(page)) else {
                    throw VarlinkError.demandNotFound(demand)
                }
                return Replies.page("workplaces", found, Replies.demandWorkplace)
            case .listActions(let workplace, let page):
                return Replies.page("actions", try await store.listActions(workplace: workplace, page: request(page)), Replies.action)
            case .listActionWorkplaces(let action, let page):
                guard let found = try await store.listActionWorkplaces(action: action, page: request(page)) else {
                    throw VarlinkError.actionNotFound(action)
                }
                return Replies.page("workplaces", found, Replies.actionWorkplace)
            case .listRejected(let page):
                return Replies.page("rejected", try await store.listRejected(page: request(page)), Replies.rejected)
            case .gaps(let origin, let page):
                return Replies.page("gaps", try await store.gaps(origin: origin, page: request(page)), Replies.gap)
            case .unresolved(let kind, let page):
                return Replies.page("unresolved", try await store.unresolved(kind: kind, page: request(page)), Replies.unresolved)
            case .watch:
                preconditionFailure("Watch is streamed by the connection")
            }
        } catch let error as VarlinkError {
            throw error
        } catch QueryError.invalidCursor {
            throw .invalidParameter("cursor")
        } catch QueryError.store(let error) {
            logger.error("a query failed in the database", metadata: ["method": "\(call.name)", "error": "\(error.detail)"])
            throw .storeFailed(error.detail)
        } catch {
            logger.error("a query failed", metadata: ["method": "\(call.name)", "error": "\(error)"])
            throw .storeFailed("\(error)")
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
            case .rescan:
                try await admin.rescan()
                return JSONObject()
            }
        } catch {
            switch error {
            case .quarantinedFileNotFound(let name):
                throw .quarantinedFileNotFound(name)
            case .notImplemented:
                throw .methodNotImplemented(call.method)
            case .failed(let detail):
                logger.error("an admin call failed", metadata: ["method": "\(call.method)", "peer_uid": "\(peer.uid)", "error": "\(detail)"])
                throw .failed(detail)
            }
        }
    }
}
