// Package storefake simulates the Microsoft Store submission API and the
// Azure blob endpoint behind a submission's fileUploadUrl, as
// the project's STOREAPI.md describes them. The same handler serves the unit
// tests (in process, through HTTPClient, with no socket), the --simulate mode
// of the binary, and end-to-end tests of the compiled binary (Listen, with
// TLS). It has its own wire format written from STOREAPI.md and never shares
// the client's types, so that a mistake in the client is not mirrored here.
//
// Time comes from Options.Clock: statuses advance on reads, computed from the
// commit time and the Stages durations, so a test with a clock.Fake sees every
// stage deterministically.
//
// Where the real Store's behaviour is unknown, the simulator takes the
// harsher reading, so that tests trust nothing the Store may not do:
//
//   - listflights answers 404 ResourceNotFound when the app has no flights
//     (not 200 with an empty list), as the documentation's error table says.
//   - A create clones the last published submission's delivery options, its
//     gradual rollout included (isPackageRollout and the percentage; status
//     PackageRolloutNotStarted): a clone of a rolled-out submission starts a
//     gradual rollout nobody asked for unless the client turns it off.
//     Options.CloneWithoutRollout clones them without a packageRollout
//     object instead, absent until a PUT sends one; tests run both.
//   - A fileUploadUrl's SAS expires at its se= on the simulator's clock
//     (Options.SASTTL after the create); a GET of the submission hands out
//     the same, expired URL, never a fresh one, and the blob endpoint
//     refuses an expired SAS with 403 AuthenticationFailed, as Azure does.
//
// Where STOREAPI.md marks a behaviour as inferred ([I]) or says nothing
// else, the simulator chooses as follows:
//
//   - listflights' @nextLink is present only when more flights follow and
//     is relative to /v1.0/my/ ("applications/{id}/listflights/?skip=2&top=2").
//   - A flight or application without a pending (or published) submission
//     omits pendingFlightSubmission (lastPublishedFlightSubmission) entirely.
//   - A submission that exists but belongs to another app or flight answers
//     409 InvalidState; one that does not exist answers 404 ResourceNotFound.
//   - PUT treats an absent top-level field as "unchanged" and a present
//     flightPackages (applicationPackages) list as the whole new list. A
//     package sent with an id that is not one of the submission's packages is
//     400 InvalidParameterValue; a package without an id that is not
//     PendingUpload keeps the id of the existing package with that fileName.
//     Unknown fields (top level, in packages, in packageDeliveryOptions) are
//     kept and echoed back. targetPublishDate must be RFC 3339 when not empty.
//   - Delete of a submission is allowed while it is PendingCommit or failed;
//     while it is being processed, and once published, it is 409.
//   - Submissions seeded with NoUploadURL (or made with CreateInPartnerCenter)
//     stand for ones created in Partner Center: no fileUploadUrl, and PUT,
//     commit and delete answer 400 InvalidOperation (DESIGN; SB #248 quotes
//     the message with a 409, so a client must go by the code).
//   - Scripted failures end the stage they name: CommitFailed and
//     "PendingCommit" end CommitStarted, PreProcessingFailed ends
//     PreProcessing, CertificationFailed and Canceled end Certification,
//     ReleaseFailed ends Release, PublishFailed ends Publishing. A submission
//     sent back to PendingCommit can be edited and committed again.
//   - The ZIP check runs when CommitStarted ends; an InvalidArchive or
//     MissingFiles result wins over a scripted failure. It sets each new
//     package's version from its manifest; for an upload file
//     (.msixupload, .appxupload) from the package or bundle inside it,
//     stored or compressed. Until then a new entry has no version.
//   - On publication with gradual rollout enabled, fallbackSubmissionId is the
//     previously published submission, or that one's own fallback when its
//     rollout was halted (the next rollout runs from the last finalized one).
//   - The request budget is a fixed one-minute window that starts with the
//     first API request; requests answered 401, and injected faults, do not
//     count. Blob requests are not counted: they go to Azure Storage.
//   - Requests answered by an injected fault carry the Store's JSON error body
//     on the API host and Azure's XML error body on the blob host.
//   - The blob endpoint accepts Put Blob, Put Block, Put Block List (Latest,
//     Uncommitted and Committed ids, in document order) and Get Blob. A raw
//     '+' in the SAS query decodes to a space and so fails the signature check
//     with 403 AuthenticationFailed, as on Azure; a request carrying an
//     Authorization header is refused with 400 and recorded as Authorized, so
//     that a leaked Store token shows up in tests.
//   - Listeners speak HTTP/1.1 only, so that a lost answer is a connection
//     closed without a response, as a dropped TCP connection would be.
//   - The recorded RawQuery of a request has its sig value replaced by
//     redact.Marker, so Requests() can be printed safely.
//   - The analytics endpoints (failurehits, usagedaily) serve data made from
//     the rollouts simulated: each audience (an app's own submissions, each
//     flight) has AnalyticsOptions.Devices active devices a day, which the
//     latest published submission's rollout percentage splits from its
//     fallback's, weighted by the part of the day each percentage lasted;
//     after a halt the devices that had the new packages keep them.
//     Failures follow each version's FailureRates. A day's rows appear Lag
//     (default 24h) after it ends; MissingDays have none at all.
//   - Failure counts are fractional and more dispersed than Poisson, as the
//     API's look (deviceCount 7.14285714285714 = 5/0.7): Poisson(expected x
//     0.7) / 0.7. dailyActiveDevices are whole numbers, as documented.
//   - failurehits keeps 30 days, usagedaily 90, and failurehits also answers
//     the day after endDate, as the documented sample did. @nextLink is
//     relative to the analytics path ("failurehits?...&startDate=yyyy/mm/dd")
//     with raw spaces, and null on the last page.
//   - An unknown applicationId answers 404; a bad parameter (top above
//     10000, a date, groupby, orderby, filter) 400 with the documented body
//     and the reason in innererror.data. Filters are simulated on
//     packageVersion and eventType only, and aggregationLevel day only; the
//     rest of what the API documents answers 400 saying it is not simulated.
//
// App (retail) submissions are the whole product page
// (reference/APP-SUBMISSIONS.md); where the Store's behaviour is not known,
// the simulator chooses:
//
//   - Every app submission has listings (en-us and de-de unless seeded
//     otherwise, lower-case keys) with captioned screenshots, pricing,
//     trailers, a one-element gamingOptions, the documented properties, a
//     friendlyName the PUT cannot change, and one field no documentation
//     names (simulatorOnlySetting, holding a number above 2^64 and a float
//     written 1.50), so that a client that drops or re-encodes what it does
//     not know is caught.
//   - PUT replaces the whole product page: a field left out falls back to
//     its default (a property to false, NotSet or an empty array; trailers
//     to none; an unknown field is gone), except images and packages:
//     an image or an Uploaded package left out of its array stays (only
//     PendingDelete deletes), a PendingUpload one left out is gone.
//   - PUT refuses with 400 InvalidParameterValue, changing nothing: no
//     listings or an empty object ("The size of AppListings must be 1 or
//     more.", target appListings); no pricing ("Pricing data was not provided
//     in the request."); priceId "Base"; a listing key that is not lower
//     case ("Language codes: en-US not supported"); a listing without
//     baseListing; releaseNotes over 1500 UTF-16 code units; a PendingUpload
//     package or image turned PendingDelete ("Existing Package ..."); more
//     than 30 packages that are not PendingDelete (flight submissions too);
//     more than 15 trailers; an image id the listing does not have, or an
//     image without id that is not PendingUpload; a gamingOptions that is
//     not an array. A priceId left out, null or empty silently becomes Free
//     (the trap that made paid apps free); isAdvancedPricingModel turns false
//     on any PUT; sales always read back empty.
//   - A flight submission's PUT still accepts a PendingUpload entry turned
//     PendingDelete: the evidence (WeatherExtension #149) is from an app
//     submission.
//   - Commit checks that every PendingUpload image, as every package, is in
//     the ZIP (MissingFiles); a gamingOptions array that does not hold
//     exactly one object fails the commit ("Validation error:
//     MultipleInstancesOfGamingOptions"). A package whose identity cannot be
//     read (internal/msix: packages, bundles, upload files, compressed or
//     not) fails pre-processing with PackageValidationFailed; a readable one
//     gets its version, its architectures spelt as the Store's example does,
//     not as the manifest ("X64", "ARM", "Arm64", "Neutral"; a bundle's
//     joined: "X64, Arm64") and, on app submissions, targetDeviceFamilies as
//     "Windows.Xbox min version 10.0.17763.0".
//   - create with isMinimalResponse=true answers only id, status,
//     statusDetails and fileUploadUrl, so a client must read the submission
//     back before changing it.
//   - ScriptPackageDrop makes pre-processing discard uploaded packages:
//     they leave the list, the packages the commit was to delete stay, and
//     the submission goes on to Published with nothing in statusDetails.
//   - An app seeded with UnsupportedFeatures answers every change (create,
//     PUT, commit, DELETE, rollout changes, its flights' included) with 409
//     InvalidState, "This application uses features that are not supported
//     by the submission API..."; every read works.
//   - Rollout endpoints and status work on app submissions as on flight
//     submissions.
package storefake
