import Synchronization

/// A budget of events per key (a device's serial) within a sliding period, in this process's memory.
///
/// Guards the technician's tools that an attacker holding a technician key could turn into an oracle
/// (`diagnose`) or a way around the lockout (`unlock`). Bounded: at most `capacity` keys are tracked;
/// when that many have events inside their period, new keys are refused until some expire (fail
/// closed: a flood of distinct serials cannot reset anyone's budget).
final class RateLimiter: Sendable {
    let limit: Int
    let period: Int64
    let capacity: Int
    private let events = Mutex<[ByteKey: [Int64]]>([:])

    init(limit: Int, period: Int64, capacity: Int = 100_000) {
        self.limit = limit
        self.period = period
        self.capacity = capacity
    }

    /// Counts an event for `key` at `now` and says whether it was within the budget (a refused event
    /// is not counted).
    func allow(_ key: String, now: Int64) -> Bool {
        let key = ByteKey(key)
        let since = now - period
        return events.withLock { map in
            var times = (map[key] ?? []).filter { $0 > since }
            guard times.count < limit else {
                map[key] = times
                return false
            }
            if times.isEmpty, map[key] == nil, map.count >= capacity {
                map = map.filter { $0.value.contains { $0 > since } }
                guard map.count < capacity else { return false }
            }
            times.append(now)
            map[key] = times
            return true
        }
    }
}
