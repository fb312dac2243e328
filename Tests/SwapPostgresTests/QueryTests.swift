import Foundation
import LocalServers
import SwapPostgres
import Testing

@Suite("PostgreSQL queries", .serialized, .timeLimit(.minutes(3)))
struct QueryTests {
    @Test("interpolated values become binds, even when they look like SQL")
    func injectionLookingStringsRoundTripAsData() async throws {
        try await withTestDatabase { pool, _ in
            try await pool.execute("CREATE TABLE users (id uuid PRIMARY KEY, name text NOT NULL)")
            let hostile = [
                "'; DROP TABLE users; --",
                "Robert'); DROP TABLE students;--",
                "$1 $2 \\x00 \" '' \\",
                "名前 🚀 ünïcødé",
            ]
            for name in hostile {
                try await pool.execute("INSERT INTO users (id, name) VALUES (\(UUID()), \(name))")
            }
            for name in hostile {
                let rows = try await pool.query("SELECT name FROM users WHERE name = \(name)")
                #expect(rows.count == 1)
                #expect(try rows.first?.decode(String.self, column: "name") == name)
            }
            let count = try await pool.query("SELECT count(*) FROM users")
            #expect(try count.first?.decode(Int.self, column: 0) == hostile.count)

            let query: PostgresQuery = "SELECT \(1) + \(2), \(identifier: "users")"
            #expect(query.sql == "SELECT $1 + $2, \"users\"")
            #expect(query.binds == ["1", "2"])
        }
    }

    @Test("a bind with a NUL byte is refused, not truncated")
    func nulByteIsRefused() async throws {
        _ = try await withTestDatabase { pool, _ in
            await #expect { try await pool.query("SELECT \("a\u{0}b")") } throws: { error in
                (error as? PostgresError)?.kind == .invalidInput
            }
        }
    }

    @Test("typed decoding of every supported type, NULLs included")
    func typedDecoding() async throws {
        try await withTestDatabase { pool, _ in
            try await pool.execute("""
                CREATE TABLE sample (
                    t text, i8 bigint, i4 integer, b boolean, f float8, u uuid, ts timestamptz, d bytea
                )
                """)
            let id = UUID()
            let date = Date(timeIntervalSince1970: 1_714_566_600.123456)
            let bytes = Data((0...255).map(UInt8.init))
            try await pool.execute("""
                INSERT INTO sample VALUES (\("hello"), \(Int64.max), \(Int32.min), \(true), \(2.5), \(id), \(date), \(bytes))
                """)
            let nothing: String? = nil
            try await pool.execute("""
                INSERT INTO sample VALUES (\(nothing), \(Int64?.none), \(Int32?.none), \(Bool?.none), \(Double?.none),
                                           \(UUID?.none), \(Date?.none), \(Data?.none))
                """)
            let rows = try await pool.query("SELECT t, i8, i4, b, f, u, ts, d FROM sample ORDER BY t NULLS LAST")
            #expect(rows.count == 2)

            let (t, i8, i4, b, f, u, ts, d) = try rows[0].decode((String, Int64, Int32, Bool, Double, UUID, Date, Data).self)
            #expect(t == "hello" && i8 == .max && i4 == .min && b && f == 2.5 && u == id && d == bytes)
            #expect(abs(ts.timeIntervalSince(date)) < 0.000_001)
            #expect(try rows[0].decode(Int.self, column: "i4") == Int(Int32.min))

            let nulls = try rows[1].decode((String?, Int64?, Int32?, Bool?, Double?, UUID?, Date?, Data?).self)
            #expect(nulls.0 == nil && nulls.1 == nil && nulls.2 == nil && nulls.3 == nil)
            #expect(nulls.4 == nil && nulls.5 == nil && nulls.6 == nil && nulls.7 == nil)
            #expect(try rows[1].isNull(column: 0))

            #expect { try rows[1].decode(String.self, column: "t") } throws: { error in
                (error as? PostgresDecodingError)?.kind == .unexpectedNull
            }
            #expect { try rows[0].decode(Int.self, column: "t") } throws: { error in
                (error as? PostgresDecodingError)?.kind == .typeMismatch
            }
            #expect { try rows[0].decode(Int.self, column: "missing") } throws: { error in
                (error as? PostgresDecodingError)?.kind == .missingColumn
            }
            #expect { try rows[0].decode((String, Int).self) } throws: { error in
                (error as? PostgresDecodingError)?.kind == .columnCountMismatch
            }

            let special = try await pool.query("SELECT \(Double.infinity), \(-Double.infinity), 'infinity'::timestamptz, '1999-12-31 23:00:00-05'::timestamptz")
            let (inf, negInf, future, y2k) = try special[0].decode((Double, Double, Date, Date).self)
            #expect(inf == .infinity && negInf == -.infinity && future == .distantFuture)
            #expect(y2k == Date(timeIntervalSince1970: 946_699_200))
        }
    }

    @Test("constraint violations map to typed errors without leaking the message")
    func constraintViolations() async throws {
        try await withTestDatabase { pool, _ in
            try await pool.execute("CREATE TABLE accounts (id int PRIMARY KEY, email text UNIQUE, balance int CHECK (balance >= 0))")
            try await pool.execute("CREATE TABLE transfers (account int REFERENCES accounts(id))")
            try await pool.execute("INSERT INTO accounts VALUES (1, \("alice@example.com"), 10)")

            let unique = await #expect(throws: PostgresError.self) {
                try await pool.execute("INSERT INTO accounts VALUES (2, \("alice@example.com"), 10)")
            }
            #expect(unique?.kind == .uniqueViolation)
            #expect(unique?.sqlState == "23505")
            #expect(unique?.constraint == "accounts_email_key")
            #expect(unique?.description.contains("alice") == false)
            #expect(unique?.details.contains("alice@example.com") == true)

            let foreignKey = await #expect(throws: PostgresError.self) {
                try await pool.execute("INSERT INTO transfers VALUES (\(42))")
            }
            #expect(foreignKey?.kind == .foreignKeyViolation)

            let check = await #expect(throws: PostgresError.self) {
                try await pool.execute("UPDATE accounts SET balance = \(-5) WHERE id = \(1)")
            }
            #expect(check?.kind == .checkViolation)

            let syntax = await #expect(throws: PostgresError.self) { try await pool.execute("SELEC 1") }
            #expect(syntax?.kind == .invalidStatement)
        }
    }

    @Test("connecting to nothing fails with connectionFailed")
    func connectFailure() async throws {
        let port = try FreePort.next()
        var configuration = PostgresConfiguration(host: "127.0.0.1", port: port, user: "nobody", database: "none")
        configuration.tls = .disable
        let error = await #expect(throws: PostgresError.self) {
            _ = try await PostgresConnection.connect(configuration: configuration)
        }
        #expect(error?.kind == .connectionFailed)
        #expect(error?.description.contains("\(port)") == false)
    }
}
