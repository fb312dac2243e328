import SwapTopology

/// The responses nginx makes itself, in the API.md error shape
/// `{"error": {"code", "message", "request_id"}}`. Upstream responses pass
/// through untouched (`proxy_intercept_errors` stays off): the services
/// already answer in that shape.
enum NginxErrorPages {
    struct Page {
        var status: Int
        var code: String
        var message: String
    }

    static func pages(_ topology: Topology) -> [Page] {
        [
            Page(status: 400, code: "bad_request", message: "The request could not be parsed."),
            Page(status: 404, code: "not_found", message: "No route matches this path."),
            Page(status: 413, code: "payload_too_large", message: "The request body is larger than \(topology.ingress.maxBody.description)B."),
            Page(status: 414, code: "uri_too_long", message: "The request URI is too long."),
            Page(status: 429, code: "rate_limited", message: "Too many requests; slow down and retry."),
            Page(status: 500, code: "internal_error", message: "The ingress failed to handle the request."),
            Page(status: 502, code: "bad_gateway", message: "The service is unreachable; retry shortly."),
            Page(status: 503, code: "service_unavailable", message: "The service is unavailable; retry shortly."),
            Page(status: 504, code: "gateway_timeout", message: "The service did not answer in time."),
        ]
    }

    /// The JSON body; `$swap_request_id` only ever holds `[A-Za-z0-9._:-]`,
    /// so it needs no escaping.
    static func body(code: String, message: String) -> String {
        #"{"error":{"code":"\#(code)","message":"\#(message)","request_id":"$swap_request_id"}}\n"#
    }

    /// http-level maps from the status to the error's code and message.
    static func maps(_ topology: Topology, into out: inout NginxWriter) {
        out.comment("The code and message of nginx's own errors, by status (see @json_error).")
        out.block("map $status $swap_error_code") { out in
            for page in pages(topology) { out.directive("\(page.status) \(page.code)") }
            out.directive("default error")
        }
        out.block("map $status $swap_error_message") { out in
            for page in pages(topology) { out.directive("\(page.status) \"\(page.message)\"") }
            out.directive("default \"The request failed.\"")
        }
        out.blank()
    }

    /// Where the errors nginx raises before it has parsed a request line
    /// (400, 414) go: a named location needs a URI, so this one is internal.
    static let earlyErrorURI = "/_nginx/error"

    /// The `error_page` lines and the locations that answer them, for one
    /// server. `error_page` without `=` keeps the original status, so
    /// `return 200` only supplies the body. Named locations keep `$uri` for
    /// the access log; nginx cannot redirect a request without a URI to one.
    static func write(_ topology: Topology, https: Bool, into out: inout NginxWriter) {
        let early: Set = [400, 414]
        let statuses = pages(topology).map(\.status)
        out.comment("nginx's own errors answer in the API's JSON error shape.")
        out.directive("error_page \(statuses.filter { !early.contains($0) }.map(String.init).joined(separator: " ")) @json_error")
        out.directive("error_page \(statuses.filter { early.contains($0) }.map(String.init).joined(separator: " ")) \(earlyErrorURI)")
        out.comment("494: a request header too large, answered as the 400 it is.")
        out.directive("error_page 494 =400 \(earlyErrorURI)")
        if https {
            out.comment("497: plain HTTP sent to the HTTPS port.")
            out.directive("error_page 497 =400 @plain_http")
        }
        let json = "return 200 '\(body(code: "$swap_error_code", message: "$swap_error_message"))'"
        out.block("location @json_error") { $0.directive(json) }
        out.block("location = \(earlyErrorURI)") { out in
            out.directive("internal")
            out.directive(json)
        }
        if https {
            out.block("location @plain_http") { out in
                out.directive("return 200 '\(body(code: "https_required", message: "This port speaks HTTPS only."))'")
            }
        }
    }
}
