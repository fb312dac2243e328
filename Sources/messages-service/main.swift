import MessagesService

try await MessagesApp.run()
