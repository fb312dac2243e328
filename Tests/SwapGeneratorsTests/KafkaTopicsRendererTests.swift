import Foundation
import SwapGenerators
import SwapTopology
import Testing

@Suite("KafkaTopicsRenderer", .timeLimit(.minutes(2)))
struct KafkaTopicsRendererTests {
    let renderer = KafkaTopicsRenderer()

    @Test func matchesGoldenFiles() throws {
        let output = OpsTestSupport.render(renderer, try Fixture.allEnvironments())
        #expect(output.files.map(\.path) == ["dev/kafka/create-topics.sh", "prod/kafka/create-topics.sh", "staging/kafka/create-topics.sh"])
        try Golden.check(output.files, name: "kafka")
    }

    @Test func scriptsAreExecutableAndShellcheckClean() throws {
        let output = OpsTestSupport.render(renderer, try Fixture.allEnvironments())
        let folder = try OpsTestSupport.scratch(output.files)
        defer { try? FileManager.default.removeItem(at: folder) }
        for file in output.files {
            #expect(file.executable, "\(file.path)")
            #expect(file.contents.hasPrefix("#!/usr/bin/env bash\n# \(GeneratedHeader.text)\n"))
            #expect(file.contents.contains("\nset -euo pipefail\n"))
            let check = try ExternalTool.run("shellcheck", ["-x", file.path], in: folder)
            #expect(check.status == 0, "shellcheck \(file.path):\n\(check.output)")
            let syntax = try ExternalTool.run("bash", ["-n", file.path], in: folder)
            #expect(syntax.status == 0, "bash -n \(file.path):\n\(syntax.output)")
            let help = try OpsTestSupport.runScript(folder.appendingPathComponent(file.path), ["-h"])
            #expect(help.status == 0 && help.output.contains("Usage: create-topics.sh"), "\(help.output)")
        }
    }

    @Test func everyTopicComesFromTheTopology() throws {
        let topology = try Fixture.topology("prod")
        let script = try OpsTestSupport.file(renderer.render(topology), "prod/kafka/create-topics.sh").contents
        let broker = try #require(topology.brokers.first)
        #expect(script.contains("KAFKA_BOOTSTRAP=\"${KAFKA_BOOTSTRAP:-events-1:9092,events-2:9092,events-3:9092}\""))
        for topic in broker.topics {
            var line = "ensure_topic \"$KAFKA_BOOTSTRAP\" \(topic.name) \(topic.partitions) \(topic.replication.value) "
            if let retention = topic.retention { line += "retention.ms=\(retention.totalMilliseconds)," }
            line += "min.insync.replicas=\(broker.effectiveMinInsync)\n"
            #expect(script.contains(line), "missing: \(line)")
        }
        #expect(script.contains("--create --if-not-exists --topic \"$name\""))
        #expect(script.contains("${KAFKA_BIN:-/opt/kafka/bin}"))
    }

    @Test func noBrokerNoScript() throws {
        var topology = try Fixture.topology("dev")
        topology.brokers = []
        #expect(renderer.render(topology).files.isEmpty)
    }

    /// Runs the script against a fake Kafka CLI that answers only on the
    /// second try and reports a partition drift on one topic.
    @Test func waitsForTheBrokerCreatesIdempotentlyAndReportsDrift() throws {
        let output = renderer.render(try Fixture.topology("prod"))
        let folder = try OpsTestSupport.scratch(output.files)
        defer { try? FileManager.default.removeItem(at: folder) }
        let bin = folder.appendingPathComponent("kafka-bin")
        let calls = folder.appendingPathComponent("calls").path
        try OpsTestSupport.fakeTool("kafka-topics.sh", in: bin, """
            echo "kafka-topics.sh $*" >>"$FAKE_CALLS"
            case " $* " in
                *" --list "*)
                    tries="$(grep -c -- '--list' "$FAKE_CALLS")"
                    [ "$tries" -ge 2 ] || exit 1 ;;
                *" --describe "*)
                    count=6; [ "$5" = points.awarded ] && count=1
                    printf 'Topic: %s\\tTopicId: x\\tPartitionCount: %s\\tReplicationFactor: 3\\tConfigs: \\n' "$5" "$count" ;;
            esac
            """)
        try OpsTestSupport.fakeTool("kafka-configs.sh", in: bin, "echo \"kafka-configs.sh $*\" >>\"$FAKE_CALLS\"\n")
        let script = folder.appendingPathComponent("prod/kafka/create-topics.sh")
        let result = try OpsTestSupport.runScript(script, environment: [
            "KAFKA_BIN": bin.path, "FAKE_CALLS": calls, "KAFKA_BOOTSTRAP": "broker.test:9092",
        ])
        #expect(result.status == 0, "\(result.output)")
        let log = try String(contentsOfFile: calls, encoding: .utf8)
        #expect(log.contains("kafka-topics.sh --bootstrap-server broker.test:9092 --create --if-not-exists --topic financial.transactions --partitions 6 --replication-factor 3 --config retention.ms=604800000 --config min.insync.replicas=2"), "\(log)")
        #expect(log.contains("kafka-configs.sh --bootstrap-server broker.test:9092 --alter --entity-type topics --entity-name points.awarded --add-config retention.ms=604800000,min.insync.replicas=2"))
        #expect(result.output.contains("waiting for broker.test:9092"))
        #expect(result.output.contains("warning: topic points.awarded has 1 partitions, the topology asks for 3"))
        #expect(!result.output.contains("warning: topic financial.transactions"))
    }

    @Test func givesUpWhenTheBrokerNeverAnswers() throws {
        let output = renderer.render(try Fixture.topology("dev"))
        let folder = try OpsTestSupport.scratch(output.files)
        defer { try? FileManager.default.removeItem(at: folder) }
        let bin = folder.appendingPathComponent("kafka-bin")
        try OpsTestSupport.fakeTool("kafka-topics.sh", in: bin, "exit 1\n")
        let result = try OpsTestSupport.runScript(folder.appendingPathComponent("dev/kafka/create-topics.sh"), environment: [
            "KAFKA_BIN": bin.path, "WAIT_TIMEOUT": "0",
        ])
        #expect(result.status == 1)
        #expect(result.output.contains("no broker answered at events:9092 within 0s"), "\(result.output)")
    }
}
