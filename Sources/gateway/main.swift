import Gateway

try await GatewayApp.run()
