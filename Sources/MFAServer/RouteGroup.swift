import Hummingbird
import MFA

/// One resource's routes. Each group adds its handlers through the shared ``RouteTable`` (so a
/// wrong method on a known path is 405, not 404) and calls the service through ``ServiceAdapter``
/// only; a new front end is a new group in ``makeRouter(service:metrics:keys:accessLog:)``'s list,
/// and the groups already there stay untouched.
protocol RouteGroup: Sendable {
    func add(to router: Router<MFARequestContext>, _ table: RouteTable)
}

extension MFARequestContext {
    /// The key, which must have `scope`, and the adapter acting for it.
    func acting(_ scope: Scope, on service: MFAService) throws -> (key: APIKeyRecord, adapter: ServiceAdapter) {
        let key = try require(scope)
        return (key, ServiceAdapter(service, key: key))
    }
}
