import FinancialService

try await FinancialApp.run()
