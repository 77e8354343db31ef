-- Whether growth holds user ids (the tables every other user-keyed table derives from).
SELECT EXISTS (SELECT 1 FROM growth.events) OR EXISTS (SELECT 1 FROM growth.subscriptions)
    OR EXISTS (SELECT 1 FROM growth.users) AS holds;
