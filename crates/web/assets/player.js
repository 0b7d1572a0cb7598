// The recording page's player: when a request under the grant is refused (it expired, or a
// withdrawal or an access change revoked it), say so and offer to open it again, rather than
// leave a player that silently stops.
(function () {
  "use strict";
  var player = document.getElementById("player");
  var lapsed = document.getElementById("player-lapsed");
  if (!player || !lapsed) {
    return;
  }
  player.addEventListener("error", function () {
    lapsed.hidden = false;
  });
})();
