import Logging
import SwapKafka

/// Finds out which claimed events a topic already holds, by reading each
/// partition from the watermark recorded when the event was claimed (or, when
/// none was recorded, the last `window` messages) up to the current high
/// watermark and matching the `event_id` header.
struct OutboxReconciler: Sendable {
    let reader: KafkaPartitionReader
    let window: Int64
    let timeout: Duration
    let logger: Logger

    struct Outcome: Sendable {
        /// Events already on their topic, with where they are.
        var found: [(event: ClaimedEvent, partition: Int, offset: Int64)] = []
        /// Events that are not: they must be published.
        var missing: [ClaimedEvent] = []
    }

    func reconcile(_ events: [ClaimedEvent]) async throws -> Outcome {
        var outcome = Outcome()
        let byTopic = Dictionary(grouping: events, by: \.topic)
        for topic in byTopic.keys.sorted() {
            let rows = byTopic[topic] ?? []
            let locations = try await locate(rows, topic: topic)
            for row in rows {
                if let location = locations[row.eventIDString] {
                    outcome.found.append((row, location.partition, location.offset))
                } else {
                    outcome.missing.append(row)
                }
            }
        }
        outcome.missing.sort { $0.id < $1.id }
        return outcome
    }

    /// Where each of `rows`' event ids first appears in `topic`.
    private func locate(_ rows: [ClaimedEvent], topic: String) async throws -> [String: (partition: Int, offset: Int64)] {
        let partitions = try await reader.partitions(of: topic, timeout: timeout)
        guard !partitions.isEmpty else { return [:] }
        var ranges: [Int: KafkaPartitionRange] = [:]
        for partition in partitions {
            let marks = try await reader.watermarks(topic: topic, partition: partition, timeout: timeout)
            let recorded = rows.map { $0.claimOffsets?[partition] }
            var start: Int64
            if recorded.allSatisfy({ $0 != nil }) {
                start = recorded.compactMap { $0 }.min() ?? marks.low
                if start > marks.high {
                    // The partition is shorter than when the event was claimed: the broker lost data.
                    logger.warning("outbox reconciliation: partition is behind its recorded watermark",
                                   metadata: ["topic": "\(topic)", "partition": "\(partition)"])
                    start = marks.low
                }
            } else {
                start = marks.high - window
            }
            start = max(start, marks.low)
            if start < marks.high {
                ranges[partition] = KafkaPartitionRange(topic: topic, partition: partition, start: start, end: marks.high)
            }
        }

        let wanted = Set(rows.map(\.eventIDString))
        var found: [String: (partition: Int, offset: Int64)] = [:]
        let chunk = 5000
        while !ranges.isEmpty, found.count < wanted.count {
            let messages = try await reader.read(Array(ranges.values), maxMessages: chunk, timeout: timeout)
            for message in messages {
                guard let header = message.headers.first(where: { $0.key == "event_id" }), let value = header.value else { continue }
                let eventID = String(decoding: value, as: UTF8.self).lowercased()
                if wanted.contains(eventID), found[eventID] == nil {
                    found[eventID] = (message.partition, message.offset)
                }
            }
            guard messages.count >= chunk else { break }
            // The chunk filled up: continue each partition after its last message read.
            var lastRead: [Int: Int64] = [:]
            for message in messages { lastRead[message.partition] = max(lastRead[message.partition] ?? -1, message.offset) }
            for (partition, range) in ranges {
                guard let last = lastRead[partition] else { continue }
                if last + 1 >= range.end {
                    ranges[partition] = nil
                } else {
                    ranges[partition]?.start = last + 1
                }
            }
        }
        return found
    }
}
