// Package storeapi is the client of the Microsoft Store submission API
// (https://manage.devcenter.microsoft.com/v1.0/my/): package flights, flight
// and app submissions, their status and their gradual package rollout; and
// of the two analytics reads (failurehits, usagedaily) that the health gate
// of a rollout needs, under the same sign-in, retries and request budget.
//
// The client retries what is safe to retry (GET, PUT, DELETE on 429, 5xx
// and broken connections; a POST only when the Store certainly did nothing),
// keeps within the Store's budget of about 20 requests a minute, fetches a
// bearer token for every attempt so that hour-long waits survive token
// expiry, and returns every failure as an [*Error] naming the operation, the
// HTTP status, the Store's code and message and the MS-CorrelationId. No
// error or log line carries a token or a URL query.
//
// Flight resources keep the JSON fields they do not name (the Extra maps),
// so that a GET-modify-PUT round trip does not drop what the Store added.
// An app's own submission, which carries the whole product page (listings,
// images, pricing, trailers), is kept as the exact JSON the Store sent:
// AppSubmission.WithChange edits only the fields a run names and leaves
// every other byte as read (app.go describes the flow of a retail
// release).
//
// API reference: https://learn.microsoft.com/windows/uwp/monetize/create-and-manage-submissions-using-windows-store-services
package storeapi
