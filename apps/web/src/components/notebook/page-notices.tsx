'use client';

/** A message for everyone on the page: an error from an action, or a success. */
export interface PageNotice {
  kind: 'error' | 'success';
  text: string;
}

/**
 * The banners above a shared document (notebook or function file): the last action's notice, and while
 * the connection is down after it was once up, whether the edits made meanwhile are stored yet.
 */
export function PageNotices({
  notice,
  onDismiss,
  offline,
  saved,
}: {
  notice: PageNotice | null;
  onDismiss(): void;
  offline: boolean;
  saved: boolean;
}) {
  return (
    <>
      {notice ? (
        <div
          className={`alert ${notice.kind === 'error' ? 'alert-error' : 'alert-success'} nb-notice`}
          role={notice.kind === 'error' ? 'alert' : 'status'}
        >
          {notice.text}
          <button type="button" className="btn-link" onClick={onDismiss}>
            Dismiss
          </button>
        </div>
      ) : null}
      {offline ? (
        <div className="alert alert-info nb-offline" role="status">
          {saved
            ? 'Offline: reconnecting… You can keep editing; your edits are sent when the connection is back.'
            : 'Offline: reconnecting… You can keep editing. Your latest edits are kept in this tab and not saved yet; keep the tab open until this message goes away.'}
        </div>
      ) : null}
    </>
  );
}
