import Hummingbird
import MFA
import OTP

/// `/v1/devices…` and `/v1/users/:user/devices`: enrollment, activation, technician work,
/// lifecycle and listings.
struct DeviceRoutes: RouteGroup {
    let service: MFAService

    func add(to router: Router<MFARequestContext>, _ table: RouteTable) {
        addEnrollment(router, table)
        addTechnicianWork(router, table)
        addLifecycle(router, table)
    }

    private func addEnrollment(_ router: Router<MFARequestContext>, _ table: RouteTable) {
        table.add(router, .post, "/v1/devices/virtual") { [service] request, context -> Response in
            let (_, adapter) = try context.acting(.admin, on: service)
            let body = try await decode(CreateVirtualRequest.self, request, context)
            guard let kind = DeviceKind(rawValue: body.kind ?? DeviceKind.virtualTOTP.rawValue), kind == .virtualTOTP || kind == .oathCard || kind == .hidSlot else {
                throw APIError(.badRequest, code: "invalid-input", message: "kind must be virtual-totp, oath-card or hid-slot (yubico-otp: POST /v1/devices/yubico-otp)")
            }
            // Spelled as in otpauth URIs.
            guard let algorithm = ["SHA1": HashAlgorithm.sha1, "SHA256": .sha256, "SHA512": .sha512][body.algorithm ?? "SHA1"] else {
                throw APIError(.badRequest, code: "invalid-input", message: "algorithm must be SHA1, SHA256 or SHA512")
            }
            let created = try await call {
                try await adapter.createVirtual(user: body.user, issuer: body.issuer, kind: kind, digits: body.digits ?? 6, algorithm: algorithm, period: body.period ?? 30)
            }
            return try created.response(from: request, context: context).withStatus(.created)
        }

        table.add(router, .post, "/v1/devices/yubico-otp") { [service] request, context -> Response in
            let (_, adapter) = try context.acting(.admin, on: service)
            let body = try await decode(CreateYubicoOTPRequest.self, request, context)
            return try await call { try await adapter.createYubicoOTP(user: body.user) }.response(from: request, context: context).withStatus(.created)
        }

        table.add(router, .post, "/v1/devices") { [service] request, context -> Response in
            let (_, adapter) = try context.acting(.admin, on: service)
            let body = try await decode(RegisterRequest.self, request, context)
            try await call { try await adapter.register(body) }
            return try StatusResponse(status: "registered", serial: body.serial).response(from: request, context: context).withStatus(.created)
        }

        table.add(router, .post, "/v1/devices/:serial/enable") { [service] request, context -> StatusResponse in
            let (_, adapter) = try context.acting(.admin, on: service)
            let serial = try context.parameters.decoded("serial")
            let body = try await decode(TwoCodesRequest.self, request, context)
            try await call { try await adapter.enable(serial: serial, user: body.user, code1: body.code1, code2: body.code2) }
            return StatusResponse(status: "active", serial: serial)
        }

        table.add(router, .post, "/v1/devices/:serial/enable-otp") { [service] request, context -> StatusResponse in
            let (_, adapter) = try context.acting(.admin, on: service)
            let serial = try context.parameters.decoded("serial")
            let body = try await decode(OTPEnableRequest.self, request, context)
            try await call { try await adapter.enable(serial: serial, user: body.user, otp: body.otp) }
            return StatusResponse(status: "active", serial: serial)
        }
    }

    private func addTechnicianWork(_ router: Router<MFARequestContext>, _ table: RouteTable) {
        table.add(router, .post, "/v1/devices/:serial/resync") { [service] request, context -> StatusResponse in
            let (_, adapter) = try context.acting(.technician, on: service)
            let serial = try context.parameters.decoded("serial")
            let body = try await decode(TwoCodesRequest.self, request, context)
            try await call { try await adapter.resync(serial: serial, user: body.user, code1: body.code1, code2: body.code2) }
            return StatusResponse(status: "resynchronized", serial: serial)
        }

        table.add(router, .post, "/v1/devices/:serial/diagnose") { [service] request, context -> DiagnosisResponse in
            let (_, adapter) = try context.acting(.technician, on: service)
            let serial = try context.parameters.decoded("serial")
            let body = try await decode(CodeRequest.self, request, context)
            return DiagnosisResponse(diagnosis: try await call { try await adapter.diagnose(serial: serial, code: body.code) })
        }

        table.add(router, .post, "/v1/devices/:serial/unlock") { [service] _, context -> StatusResponse in
            let (key, adapter) = try context.acting(.technician, on: service)
            let serial = try context.parameters.decoded("serial")
            let changed = try await call { try await adapter.unlock(serial: serial, byTechnician: !key.allows(.admin)) }
            return StatusResponse(status: changed ? "active" : "not-locked", serial: serial)
        }
    }

    private func addLifecycle(_ router: Router<MFARequestContext>, _ table: RouteTable) {
        table.add(router, .get, "/v1/devices") { [service] request, context -> DeviceList in
            let (_, adapter) = try context.acting(.admin, on: service)
            let text = request.uri.queryParameters.get("assignment") ?? "any"
            guard let assignment = Assignment(rawValue: text) else {
                throw APIError(.badRequest, code: "invalid-input", message: "assignment must be assigned, unassigned or any")
            }
            guard let stateText = request.uri.queryParameters.get("state") else {
                return DeviceList(devices: try await call { try await adapter.inventory(assignment) })
            }
            guard let state = DeviceState(rawValue: String(stateText)) else {
                throw APIError(.badRequest, code: "invalid-input", message: "state must be one of \(DeviceState.allNames)")
            }
            return DeviceList(devices: try await call { try await adapter.devices(state: state, assignment: assignment) })
        }

        table.add(router, .get, "/v1/users/:user/devices") { [service] _, context -> DeviceList in
            let (_, adapter) = try context.acting(.technician, on: service)
            let user = try context.parameters.decoded("user")
            return DeviceList(devices: try await call { try await adapter.devices(user: user) })
        }

        table.add(router, .post, "/v1/devices/:serial/deactivate") { [service] _, context -> StatusResponse in
            let (_, adapter) = try context.acting(.admin, on: service)
            let serial = try context.parameters.decoded("serial")
            let changed = try await call { try await adapter.deactivate(serial: serial) }
            return StatusResponse(status: changed ? "deactivated" : "already-deactivated", serial: serial)
        }

        table.add(router, .delete, "/v1/devices/:serial") { [service] _, context -> StatusResponse in
            let (_, adapter) = try context.acting(.admin, on: service)
            let serial = try context.parameters.decoded("serial")
            try await call { try await adapter.delete(serial: serial) }
            return StatusResponse(status: "deleted", serial: serial)
        }
    }
}
